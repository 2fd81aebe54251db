//! `/v1/audit`: one log read from the three places that keep a part of it — command-svc
//! (commands queued and cancelled), enroll-svc (refused and approved re-enrollments,
//! revocations) and admin-svc (admin tokens) — merged newest first.
//!
//! Each source is read in its own ID order and merged by time; the cursor holds, per source,
//! the ID to continue below, so a page never repeats or skips an entry even when two sources
//! wrote at the same millisecond.

use super::{AppState, Failures};
use crate::convert;
use crate::cursor;
use crate::error::ApiError;
use crate::extract::Query;
use crate::store::AuditRow;
use axum::extract::State;
use axum::Json;
use mdm_api::audit::{AuditEntry, AuditQuery};
use mdm_api::Page;
use mdm_proto::v1::{self, ListAuditRequest};

/// The sources, in the order the cursor names them.
const SOURCES: [&str; 3] = ["command-svc", "enroll-svc", "admin-svc"];

/// Where each source continues: below an ID, from its newest (`Start`), or nothing left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    Start,
    Below(i64),
    Done,
}

/// An entry with the ID its source gave it.
struct Sourced {
    id: i64,
    at_ms: i64,
    entry: AuditEntry,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/v1/audit", operation_id = "listAudit", tag = "admin",
    params(AuditQuery),
    responses((status = 200, description = "A page of audit entries", body = Page<AuditEntry>), Failures),
    security(("bearer" = ["read"])))]
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> Result<Json<Page<AuditEntry>>, ApiError> {
    let mut positions = match cursor::decode("audit", query.cursor.as_deref())? {
        None => [Position::Start; 3],
        Some(key) => parse_positions(&key)?,
    };
    if query.enrollment_id.is_some() {
        // admin-svc's entries are about tokens, never about a device.
        positions[2] = Position::Done;
    }
    let limit = cursor::limit(query.limit);
    let request = |position: Position| ListAuditRequest {
        before_id: match position {
            Position::Below(id) => id,
            _ => 0,
        },
        limit,
        enrollment_id: query.enrollment_id.clone().unwrap_or_default(),
        action: query.action.clone().unwrap_or_default(),
    };
    let commands = async {
        if positions[0] == Position::Done {
            return Ok(Vec::new());
        }
        let answer = state
            .backends
            .commands()
            .list_audit(request(positions[0]))
            .await;
        let entries = answer.map_err(|s| ApiError::backend("command-svc", &s))?;
        Ok(entries
            .into_inner()
            .entries
            .into_iter()
            .map(|e| from_service(SOURCES[0], e))
            .collect())
    };
    let enrollments = async {
        if positions[1] == Position::Done {
            return Ok(Vec::new());
        }
        let answer = state
            .backends
            .enroll()
            .list_audit(request(positions[1]))
            .await;
        let entries = answer.map_err(|s| ApiError::backend("enroll-svc", &s))?;
        Ok(entries
            .into_inner()
            .entries
            .into_iter()
            .map(|e| from_service(SOURCES[1], e))
            .collect())
    };
    let admin = async {
        if positions[2] == Position::Done {
            return Ok(Vec::new());
        }
        let before = match positions[2] {
            Position::Below(id) => Some(id),
            _ => None,
        };
        let rows = state
            .store
            .audit(before, query.action.as_deref(), i64::from(limit))
            .await?;
        Ok::<_, ApiError>(rows.into_iter().map(from_admin).collect())
    };
    let (commands, enrollments, admin) = futures::try_join!(commands, enrollments, admin)?;
    let (items, next) = merge(
        [commands, enrollments, admin],
        &mut positions,
        limit as usize,
    );
    let next = next.then(|| cursor::encode("audit", &format_positions(&positions)));
    Ok(Json(Page::new(items, next)))
}

/// Takes up to `limit` entries, newest first, from the sources' lists (each newest first, each
/// at most `limit` long), moving each source's position past what was taken. Answers whether
/// anything may remain.
fn merge(
    lists: [Vec<Sourced>; 3],
    positions: &mut [Position; 3],
    limit: usize,
) -> (Vec<AuditEntry>, bool) {
    let fetched: [usize; 3] = [lists[0].len(), lists[1].len(), lists[2].len()];
    let mut lists = lists.map(|l| l.into_iter().peekable());
    let mut taken = [0usize; 3];
    let mut items = Vec::with_capacity(limit);
    while items.len() < limit {
        let newest = (0..3)
            .filter_map(|i| lists[i].peek().map(|e| (e.at_ms, std::cmp::Reverse(i), i)))
            .max();
        let Some((_, _, source)) = newest else { break };
        let Some(entry) = lists[source].next() else {
            break;
        };
        positions[source] = Position::Below(entry.id);
        taken[source] += 1;
        items.push(entry.entry);
    }
    for source in 0..3 {
        // A source that gave less than a page, all of it taken, has nothing more.
        if positions[source] != Position::Done
            && fetched[source] < limit
            && taken[source] == fetched[source]
        {
            positions[source] = Position::Done;
        }
    }
    (items, positions.iter().any(|p| *p != Position::Done))
}

fn format_positions(positions: &[Position; 3]) -> String {
    positions
        .iter()
        .map(|p| match p {
            Position::Start => "start".to_owned(),
            Position::Below(id) => id.to_string(),
            Position::Done => "done".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_positions(key: &str) -> Result<[Position; 3], ApiError> {
    let bad = || ApiError::Invalid("the cursor is not one of this list (audit)".into());
    let parts: Vec<&str> = key.split(',').collect();
    let [a, b, c] = parts.as_slice() else {
        return Err(bad());
    };
    let one = |text: &str| match text {
        "start" => Ok(Position::Start),
        "done" => Ok(Position::Done),
        id => id.parse().map(Position::Below).map_err(|_| bad()),
    };
    Ok([one(a)?, one(b)?, one(c)?])
}

fn from_service(source: &str, e: v1::AuditEntry) -> Sourced {
    Sourced {
        id: e.id,
        at_ms: e.at_ms,
        entry: AuditEntry {
            at: convert::time(e.at_ms),
            source: source.to_owned(),
            actor: e.actor,
            action: e.action,
            enrollment_id: convert::text(e.enrollment_id),
            request_type: convert::text(e.request_type),
            command_uuid: convert::text(e.command_uuid),
            detail: e.detail,
        },
    }
}

fn from_admin(row: AuditRow) -> Sourced {
    Sourced {
        id: row.id,
        at_ms: row.at,
        entry: AuditEntry {
            at: convert::time(row.at),
            source: SOURCES[2].to_owned(),
            actor: row.actor,
            action: row.action,
            enrollment_id: None,
            request_type: None,
            command_uuid: None,
            detail: row.detail,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(source: &str, list: &[(i64, i64)]) -> Vec<Sourced> {
        list.iter()
            .map(|&(id, at_ms)| Sourced {
                id,
                at_ms,
                entry: AuditEntry {
                    at: None,
                    source: source.into(),
                    actor: String::new(),
                    action: String::new(),
                    enrollment_id: None,
                    request_type: None,
                    command_uuid: None,
                    detail: format!("{source}:{id}"),
                },
            })
            .collect()
    }

    /// The whole merged log, paged with `limit` as the route pages it.
    fn page_through(sources: [&[(i64, i64)]; 3], limit: usize) -> Vec<String> {
        let mut positions = [Position::Start; 3];
        let mut seen = Vec::new();
        for _ in 0..100 {
            let lists: [Vec<Sourced>; 3] = std::array::from_fn(|i| {
                let below = match positions[i] {
                    Position::Done => return Vec::new(),
                    Position::Below(id) => id,
                    Position::Start => i64::MAX,
                };
                let mut list: Vec<_> = sources[i]
                    .iter()
                    .copied()
                    .filter(|(id, _)| *id < below)
                    .collect();
                list.sort_by_key(|&(id, _)| std::cmp::Reverse(id));
                list.truncate(limit);
                entries(SOURCES[i], &list)
            });
            let (items, more) = merge(lists, &mut positions, limit);
            seen.extend(items.into_iter().map(|e| e.detail));
            let encoded = format_positions(&positions);
            assert_eq!(parse_positions(&encoded).expect("round trip"), positions);
            if !more {
                return seen;
            }
        }
        panic!("the pages never ended");
    }

    #[test]
    fn pages_neither_repeat_nor_skip() {
        let commands: &[(i64, i64)] = &[(1, 10), (2, 20), (3, 20), (4, 50), (5, 60)];
        let enrollments: &[(i64, i64)] = &[(1, 20), (2, 30), (3, 70)];
        let admin: &[(i64, i64)] = &[(7, 5), (8, 20)];
        let all = page_through([commands, enrollments, admin], 1000);
        assert_eq!(all.len(), 10);
        for limit in 1..=4 {
            assert_eq!(
                page_through([commands, enrollments, admin], limit),
                all,
                "limit {limit}"
            );
        }
        assert_eq!(all.first().map(String::as_str), Some("enroll-svc:3"));
        assert_eq!(all.last().map(String::as_str), Some("admin-svc:7"));
    }

    #[test]
    fn foreign_cursors_are_refused() {
        assert!(parse_positions("1,2").is_err());
        assert!(parse_positions("x,start,done").is_err());
        assert_eq!(
            parse_positions("start,5,done").expect("ok"),
            [Position::Start, Position::Below(5), Position::Done]
        );
    }
}
