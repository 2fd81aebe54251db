//! Platforms, OS versions, and whether a request type runs on a given device.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use super::model::CommandSchema;

/// An Apple operating system, as the schema names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Platform {
    /// iOS and iPadOS.
    #[serde(rename = "iOS")]
    Ios,
    /// macOS.
    #[serde(rename = "macOS")]
    MacOs,
    /// tvOS.
    #[serde(rename = "tvOS")]
    TvOs,
    /// visionOS.
    #[serde(rename = "visionOS")]
    VisionOs,
    /// watchOS.
    #[serde(rename = "watchOS")]
    WatchOs,
}

impl Platform {
    /// Every platform, in the schema's order.
    pub const ALL: [Platform; 5] = [
        Platform::Ios,
        Platform::MacOs,
        Platform::TvOs,
        Platform::VisionOs,
        Platform::WatchOs,
    ];

    /// The schema's name: `iOS`, `macOS`…
    pub fn name(self) -> &'static str {
        match self {
            Platform::Ios => "iOS",
            Platform::MacOs => "macOS",
            Platform::TvOs => "tvOS",
            Platform::VisionOs => "visionOS",
            Platform::WatchOs => "watchOS",
        }
    }

    /// The platform a device's `ProductName` (or `Model`) implies: `iPhone15,2` is iOS,
    /// `MacBookPro18,3` macOS. `None` for a name no Apple product family starts with.
    pub fn of_product(product: &str) -> Option<Platform> {
        const FAMILIES: [(&str, Platform); 9] = [
            ("iPhone", Platform::Ios),
            ("iPad", Platform::Ios),
            ("iPod", Platform::Ios),
            ("Mac", Platform::MacOs),
            ("iMac", Platform::MacOs),
            ("VirtualMac", Platform::MacOs),
            ("AppleTV", Platform::TvOs),
            ("RealityDevice", Platform::VisionOs),
            ("Watch", Platform::WatchOs),
        ];
        let product = product.trim();
        FAMILIES
            .iter()
            .find(|(prefix, _)| product.starts_with(prefix))
            .map(|(_, platform)| *platform)
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Compares dotted OS versions numerically (`"9.3" < "17.0.1"`, `"17" == "17.0"`); `None` when
/// either is not a version (`"n/a"`, empty).
pub fn compare_versions(a: &str, b: &str) -> Option<Ordering> {
    let parse = |v: &str| -> Option<Vec<u64>> {
        let v = v.trim();
        if v.is_empty() {
            return None;
        }
        v.split('.').map(|part| part.parse().ok()).collect()
    };
    let (a, b) = (parse(a)?, parse(b)?);
    let len = a.len().max(b.len());
    let at = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
    Some(
        (0..len)
            .map(|i| at(&a, i).cmp(&at(&b, i)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal),
    )
}

/// What the server knows of one target, from its enrollment and inventory. Unknown facts are
/// not held against it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Target<'a> {
    /// The device's platform, if its product name is known.
    pub platform: Option<Platform>,
    /// Its OS version, if known.
    pub os_version: Option<&'a str>,
    /// Whether it is supervised, if known.
    pub supervised: Option<bool>,
    /// The enrollment is a user channel (a macOS user), not the device.
    pub user_channel: bool,
}

impl CommandSchema {
    /// Why this request type cannot run on `target`, if the schema says so: a platform that
    /// lacks it, an OS version before it or after its removal, an unsupervised device for a
    /// supervised-only command, or a user channel that does not take it.
    pub fn unsupported_on(&self, target: &Target<'_>) -> Option<String> {
        let request_type = &self.request_type;
        let platform = target.platform?;
        let Some(support) = self.platforms.get(&platform) else {
            return Some(format!("{request_type} does not run on {platform}"));
        };
        if let Some(version) = target.os_version {
            if compare_versions(version, &support.introduced) == Some(Ordering::Less) {
                return Some(format!(
                    "{request_type} needs {platform} {} or later; the device runs {platform} {version}",
                    support.introduced
                ));
            }
            if let Some(removed) = &support.removed {
                if compare_versions(version, removed).is_some_and(Ordering::is_ge) {
                    return Some(format!(
                        "{request_type} was removed in {platform} {removed}; the device runs {platform} {version}"
                    ));
                }
            }
        }
        if support.supervised && target.supervised == Some(false) {
            return Some(format!(
                "{request_type} runs only on supervised devices; this one is not supervised"
            ));
        }
        if target.user_channel && support.user_channel != Some(true) {
            return Some(format!("{request_type} is not taken on a user channel"));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_number() {
        assert_eq!(compare_versions("9.3", "17.0.1"), Some(Ordering::Less));
        assert_eq!(compare_versions("17", "17.0"), Some(Ordering::Equal));
        assert_eq!(compare_versions("10.15.7", "10.9"), Some(Ordering::Greater));
        assert_eq!(compare_versions("n/a", "1.0"), None);
        assert_eq!(compare_versions("", "1.0"), None);
    }

    #[test]
    fn products_name_their_platform() {
        assert_eq!(Platform::of_product("iPhone15,2"), Some(Platform::Ios));
        assert_eq!(Platform::of_product("iPad13,4"), Some(Platform::Ios));
        assert_eq!(
            Platform::of_product("MacBookPro18,3"),
            Some(Platform::MacOs)
        );
        assert_eq!(Platform::of_product("iMac21,1"), Some(Platform::MacOs));
        assert_eq!(Platform::of_product("VirtualMac2,1"), Some(Platform::MacOs));
        assert_eq!(Platform::of_product("AppleTV11,1"), Some(Platform::TvOs));
        assert_eq!(Platform::of_product("Watch6,1"), Some(Platform::WatchOs));
        assert_eq!(
            Platform::of_product("RealityDevice14,1"),
            Some(Platform::VisionOs)
        );
        assert_eq!(Platform::of_product("Pixel 8"), None);
    }
}
