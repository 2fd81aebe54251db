//! The gRPC adapter: `mdm.v1.Declarative` onto [`DeclarativeStore`].

use super::status::{DeclarationStateRow, StateFilter};
use super::store::{Change, DeclarationRow, DeclarativeStore, SetRow};
use crate::error::Error;
use mdm_proto::v1::declarative_server::Declarative;
use mdm_proto::v1::{
    Declaration, DeclarationChange, DeclarationSet, DeclarationState, DeclarationStateFilter,
    DeleteDeclarationRequest, DeleteSetRequest, GetDeclarationRequest, GetSetRequest,
    ListDeclarationStatusRequest, ListDeclarationStatusResponse, ListDeclarationsRequest,
    ListDeclarationsResponse, ListSetAssignmentsRequest, ListSetAssignmentsResponse,
    ListSetsRequest, ListSetsResponse, ListStatusItemsRequest, ListStatusItemsResponse,
    PutDeclarationRequest, PutSetRequest, StatusItem,
};
use mdm_proto::v1::{
    FetchAssetRequest, FetchAssetResponse, ListStatusHistoryRequest, ListStatusHistoryResponse,
    PutAssetRequest, StatusChange,
};
use service_kit::secrets::SecretBox;
use tonic::{Request, Response, Status};

/// Implements the Declarative service.
#[derive(Debug, Clone)]
pub struct DeclarativeApi {
    store: DeclarativeStore,
    secrets: SecretBox,
    assets_url: Option<String>,
}

impl DeclarativeApi {
    /// An API over `store`, sealing assets' data with `secrets`; assets are served at
    /// `assets_url` (none without `[enrollment]`: then the server keeps no asset).
    pub fn new(
        store: DeclarativeStore,
        secrets: SecretBox,
        assets_url: Option<String>,
    ) -> DeclarativeApi {
        DeclarativeApi {
            store,
            secrets,
            assets_url,
        }
    }

    async fn with_sets(&self, row: DeclarationRow) -> Result<Declaration, Error> {
        let sets = self.store.sets_of(&row.identifier).await?;
        Ok(declaration(row, sets))
    }
}

fn declaration(row: DeclarationRow, sets: Vec<String>) -> Declaration {
    Declaration {
        identifier: row.identifier,
        r#type: row.declaration_type,
        payload_json: row.payload,
        server_token: row.server_token,
        created_at_ms: row.created_at,
        updated_at_ms: row.updated_at,
        updated_by: row.updated_by,
        sets,
    }
}

fn set(row: SetRow) -> DeclarationSet {
    DeclarationSet {
        name: row.name,
        declarations: row.declarations,
        created_at_ms: row.created_at,
        updated_at_ms: row.updated_at,
        updated_by: row.updated_by,
        assigned: u64::try_from(row.assigned).unwrap_or_default(),
    }
}

fn change(change: Change) -> DeclarationChange {
    DeclarationChange {
        change_id: change.change_id,
        sync_enrollment_ids: change.sync,
        ..DeclarationChange::default()
    }
}

fn state(row: DeclarationStateRow) -> DeclarationState {
    DeclarationState {
        enrollment_id: row.enrollment_id,
        identifier: row.identifier,
        r#type: row.declaration_type,
        server_token: row.server_token,
        reported: row.reported_server_token.is_some(),
        reported_server_token: row.reported_server_token.unwrap_or_default(),
        active: row.active.unwrap_or(false),
        valid: row.valid.unwrap_or_default(),
        reasons_json: row.reasons.unwrap_or_else(|| "[]".into()),
        reported_at_ms: row.reported_at.unwrap_or_default(),
    }
}

/// The key of the last row of a full page, to start the next one after.
fn next_after<T>(rows: &[T], limit: i64, key: impl Fn(&T) -> &str) -> String {
    match rows.last() {
        Some(last) if i64::try_from(rows.len()) == Ok(limit) => key(last).to_owned(),
        _ => String::new(),
    }
}

#[tonic::async_trait]
impl Declarative for DeclarativeApi {
    async fn put_declaration(
        &self,
        request: Request<PutDeclarationRequest>,
    ) -> Result<Response<DeclarationChange>, Status> {
        let request = request.into_inner();
        let json: serde_json::Value = serde_json::from_str(&request.declaration_json)
            .map_err(|e| Error::InvalidRequest(format!("the declaration is not JSON: {e}")))?;
        let checked = mdm_core::ddm::check_declaration(&json)
            .map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let (row, made) = self.store.put_declaration(&checked, &request.by).await?;
        let declaration = self.with_sets(row).await?;
        Ok(Response::new(DeclarationChange {
            declaration: Some(declaration),
            ..change(made)
        }))
    }

    async fn get_declaration(
        &self,
        request: Request<GetDeclarationRequest>,
    ) -> Result<Response<Declaration>, Status> {
        let identifier = request.into_inner().identifier;
        let row = self
            .store
            .declaration(&identifier)
            .await?
            .ok_or_else(|| Error::Absent(format!("no declaration {identifier:?}")))?;
        Ok(Response::new(self.with_sets(row).await?))
    }

    async fn list_declarations(
        &self,
        request: Request<ListDeclarationsRequest>,
    ) -> Result<Response<ListDeclarationsResponse>, Status> {
        let request = request.into_inner();
        let limit = mdm_proto::page_limit(request.limit);
        let rows = self.store.declarations(&request.after, limit).await?;
        let next_after = next_after(&rows, limit, |r| &r.identifier);
        let identifiers: Vec<&str> = rows.iter().map(|r| r.identifier.as_str()).collect();
        let mut holding = self.store.sets_holding(&identifiers).await?;
        let declarations = rows
            .into_iter()
            .map(|row| {
                let sets = holding.remove(&row.identifier).unwrap_or_default();
                declaration(row, sets)
            })
            .collect();
        Ok(Response::new(ListDeclarationsResponse {
            declarations,
            next_after,
        }))
    }

    async fn delete_declaration(
        &self,
        request: Request<DeleteDeclarationRequest>,
    ) -> Result<Response<DeclarationChange>, Status> {
        let request = request.into_inner();
        self.store.delete_declaration(&request.identifier).await?;
        tracing::info!(target: "audit", identifier = %request.identifier, by = %request.by, "declaration deleted");
        Ok(Response::new(DeclarationChange::default()))
    }

    async fn put_set(
        &self,
        request: Request<PutSetRequest>,
    ) -> Result<Response<DeclarationChange>, Status> {
        let request = request.into_inner();
        let (row, made) = self
            .store
            .put_set(&request.name, &request.declarations, &request.by)
            .await?;
        Ok(Response::new(DeclarationChange {
            set: Some(set(row)),
            ..change(made)
        }))
    }

    async fn get_set(
        &self,
        request: Request<GetSetRequest>,
    ) -> Result<Response<DeclarationSet>, Status> {
        let name = request.into_inner().name;
        let row = self
            .store
            .set(&name)
            .await?
            .ok_or_else(|| Error::Absent(format!("no declaration set {name:?}")))?;
        Ok(Response::new(set(row)))
    }

    async fn list_sets(
        &self,
        request: Request<ListSetsRequest>,
    ) -> Result<Response<ListSetsResponse>, Status> {
        let request = request.into_inner();
        let limit = mdm_proto::page_limit(request.limit);
        let rows = self.store.sets(&request.after, limit).await?;
        let next_after = next_after(&rows, limit, |r| &r.name);
        Ok(Response::new(ListSetsResponse {
            sets: rows.into_iter().map(set).collect(),
            next_after,
        }))
    }

    async fn delete_set(
        &self,
        request: Request<DeleteSetRequest>,
    ) -> Result<Response<DeclarationChange>, Status> {
        let request = request.into_inner();
        let made = self.store.delete_set(&request.name).await?;
        tracing::info!(target: "audit", set = %request.name, by = %request.by, "declaration set deleted");
        Ok(Response::new(change(made)))
    }

    async fn assign_set(
        &self,
        request: Request<mdm_proto::v1::AssignSetRequest>,
    ) -> Result<Response<DeclarationChange>, Status> {
        let request = request.into_inner();
        let (row, made) = self
            .store
            .assign(
                &request.name,
                &request.assign,
                &request.unassign,
                &request.by,
            )
            .await?;
        Ok(Response::new(DeclarationChange {
            set: Some(set(row)),
            ..change(made)
        }))
    }

    async fn list_set_assignments(
        &self,
        request: Request<ListSetAssignmentsRequest>,
    ) -> Result<Response<ListSetAssignmentsResponse>, Status> {
        let request = request.into_inner();
        let limit = mdm_proto::page_limit(request.limit);
        let ids = self
            .store
            .assignments(&request.name, &request.after, limit)
            .await?;
        let next_after = next_after(&ids, limit, |id| id);
        Ok(Response::new(ListSetAssignmentsResponse {
            enrollment_ids: ids,
            next_after,
        }))
    }

    async fn list_declaration_status(
        &self,
        request: Request<ListDeclarationStatusRequest>,
    ) -> Result<Response<ListDeclarationStatusResponse>, Status> {
        let request = request.into_inner();
        let limit = mdm_proto::page_limit(request.limit);
        let filter = match request.filter() {
            DeclarationStateFilter::All => StateFilter::All,
            DeclarationStateFilter::Applied => StateFilter::Applied,
            DeclarationStateFilter::Pending => StateFilter::Pending,
            DeclarationStateFilter::Failed => StateFilter::Failed,
        };
        let by_declaration = !request.identifier.is_empty();
        let rows = self
            .store
            .states(
                Some(request.identifier.as_str()).filter(|s| !s.is_empty()),
                Some(request.enrollment_id.as_str()).filter(|s| !s.is_empty()),
                filter,
                &request.after,
                limit,
            )
            .await?;
        let next_after = next_after(&rows, limit, |r| {
            if by_declaration {
                &r.enrollment_id
            } else {
                &r.identifier
            }
        });
        Ok(Response::new(ListDeclarationStatusResponse {
            states: rows.into_iter().map(state).collect(),
            next_after,
        }))
    }

    async fn list_status_items(
        &self,
        request: Request<ListStatusItemsRequest>,
    ) -> Result<Response<ListStatusItemsResponse>, Status> {
        let enrollment_id = request.into_inner().enrollment_id;
        let (items, full_report_at) = self.store.status_items(&enrollment_id).await?;
        Ok(Response::new(ListStatusItemsResponse {
            items: items
                .into_iter()
                .map(|row| StatusItem {
                    item: row.item,
                    value_json: row.value,
                    reported_at_ms: row.reported_at,
                })
                .collect(),
            full_report_at_ms: full_report_at.unwrap_or_default(),
        }))
    }

    async fn put_asset(
        &self,
        request: Request<PutAssetRequest>,
    ) -> Result<Response<DeclarationChange>, Status> {
        let request = request.into_inner();
        let assets_url = self.assets_url.as_deref().ok_or(Error::NotConfigured)?;
        let asset = super::assets::asset(
            &request.identifier,
            &request.r#type,
            &request.content_type,
            &request.data,
            assets_url,
            &self.secrets,
        )?;
        let (row, made) = self.store.put_asset(&asset, &request.by).await?;
        let declaration = self.with_sets(row).await?;
        Ok(Response::new(DeclarationChange {
            declaration: Some(declaration),
            ..change(made)
        }))
    }

    async fn fetch_asset(
        &self,
        request: Request<FetchAssetRequest>,
    ) -> Result<Response<FetchAssetResponse>, Status> {
        let request = request.into_inner();
        let fetched = self
            .store
            .fetch_asset(&request.cert_sha256, &request.identifier, &self.secrets)
            .await?;
        tracing::info!(enrollment = %fetched.enrollment_id, asset = %request.identifier, "asset served");
        Ok(Response::new(FetchAssetResponse {
            content_type: fetched.content_type,
            data: fetched.data,
            enrollment_id: fetched.enrollment_id,
        }))
    }

    async fn list_status_history(
        &self,
        request: Request<ListStatusHistoryRequest>,
    ) -> Result<Response<ListStatusHistoryResponse>, Status> {
        let request = request.into_inner();
        let limit = mdm_proto::page_limit(request.limit);
        let rows = self
            .store
            .status_history(
                &request.enrollment_id,
                Some(request.item.as_str()).filter(|i| !i.is_empty()),
                request.before_id,
                limit,
            )
            .await?;
        let next_before_id = match rows.last() {
            Some(last) if i64::try_from(rows.len()) == Ok(limit) => last.id,
            _ => 0,
        };
        Ok(Response::new(ListStatusHistoryResponse {
            changes: rows
                .into_iter()
                .map(|row| StatusChange {
                    id: row.id,
                    item: row.item,
                    value_json: row.value,
                    reported_at_ms: row.reported_at,
                })
                .collect(),
            next_before_id,
        }))
    }
}
