//! The enrollment row and its enumerations.

/// Lifecycle of an enrollment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrollmentStatus {
    /// Authenticate received, TokenUpdate not yet.
    Authenticated,
    /// TokenUpdate received: managed.
    Enrolled,
    /// CheckOut received: not managed.
    CheckedOut,
}

impl EnrollmentStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            EnrollmentStatus::Authenticated => "authenticated",
            EnrollmentStatus::Enrolled => "enrolled",
            EnrollmentStatus::CheckedOut => "checked_out",
        }
    }
}

impl TryFrom<String> for EnrollmentStatus {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        match value.as_str() {
            "authenticated" => Ok(EnrollmentStatus::Authenticated),
            "enrolled" => Ok(EnrollmentStatus::Enrolled),
            "checked_out" => Ok(EnrollmentStatus::CheckedOut),
            other => Err(format!("unknown enrollment status {other:?}")),
        }
    }
}

/// Which channel an enrollment row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    /// A device's channel, by UDID.
    Device,
    /// The device channel of a User Enrollment, by EnrollmentID.
    UserEnrollmentDevice,
    /// A macOS user channel under a device.
    User,
    /// The user channel of a User Enrollment.
    UserEnrollmentUser,
}

impl ChannelKind {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Device => "device",
            ChannelKind::UserEnrollmentDevice => "user_enrollment_device",
            ChannelKind::User => "user",
            ChannelKind::UserEnrollmentUser => "user_enrollment_user",
        }
    }

    /// True for user channels, which are authorized through their device channel.
    pub fn is_user(self) -> bool {
        matches!(self, ChannelKind::User | ChannelKind::UserEnrollmentUser)
    }
}

impl From<mdm_core::ChannelKind> for ChannelKind {
    fn from(kind: mdm_core::ChannelKind) -> Self {
        match kind {
            mdm_core::ChannelKind::Device => ChannelKind::Device,
            mdm_core::ChannelKind::UserEnrollmentDevice => ChannelKind::UserEnrollmentDevice,
            mdm_core::ChannelKind::User => ChannelKind::User,
            mdm_core::ChannelKind::UserEnrollmentUser => ChannelKind::UserEnrollmentUser,
        }
    }
}

impl TryFrom<String> for ChannelKind {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        [
            ChannelKind::Device,
            ChannelKind::UserEnrollmentDevice,
            ChannelKind::User,
            ChannelKind::UserEnrollmentUser,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == value)
        .ok_or_else(|| format!("unknown channel {value:?}"))
    }
}

/// Hardware and OS facts reported at Authenticate.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct DeviceFacts {
    /// SerialNumber.
    pub serial_number: Option<String>,
    /// ProductName, e.g. `iPad2,5`.
    pub product_name: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// ModelName, e.g. `iPhone`.
    pub model_name: Option<String>,
    /// DeviceName.
    pub device_name: Option<String>,
    /// OSVersion.
    pub os_version: Option<String>,
    /// BuildVersion.
    pub build_version: Option<String>,
    /// IMEI.
    pub imei: Option<String>,
    /// MEID.
    pub meid: Option<String>,
}

/// One enrollment row. Sealed secrets stay sealed here.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EnrollmentRecord {
    /// Enrollment ID.
    pub id: String,
    /// Its device channel.
    pub device_id: String,
    /// Channel kind.
    #[sqlx(try_from = "String")]
    pub channel: ChannelKind,
    /// UserID / EnrollmentUserID.
    pub user_id: Option<String>,
    /// UserShortName.
    pub user_short_name: Option<String>,
    /// UserLongName.
    pub user_long_name: Option<String>,
    /// Lifecycle state.
    #[sqlx(try_from = "String")]
    pub status: EnrollmentStatus,
    /// Bound certificate (device channel).
    pub cert_sha256: Option<Vec<u8>>,
    /// Push topic.
    pub topic: Option<String>,
    /// Device facts.
    #[sqlx(flatten)]
    pub facts: DeviceFacts,
    /// APNs token.
    pub push_token: Option<Vec<u8>>,
    /// PushMagic.
    pub push_magic: Option<String>,
    /// Sealed UnlockToken.
    pub unlock_token: Option<Vec<u8>>,
    /// Sealed BootstrapToken.
    pub bootstrap_token: Option<Vec<u8>>,
    /// AwaitingConfiguration from the last TokenUpdate.
    pub awaiting_configuration: bool,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of the last Authenticate.
    pub authenticated_at: Option<i64>,
    /// Unix ms of the last TokenUpdate.
    pub token_updated_at: Option<i64>,
    /// Unix ms of the CheckOut.
    pub checked_out_at: Option<i64>,
    /// Unix ms of the last message.
    pub last_seen_at: i64,
    /// Grows each time the enrollment starts afresh; commands are queued for one generation.
    pub generation: i64,
    /// What command results said about it.
    #[sqlx(flatten)]
    pub inventory: Inventory,
    /// Unix ms of the bound certificate's notAfter, when our CA issued it (read with
    /// [`IDENTITY_NOT_AFTER`]; absent from statements that do not select it).
    #[sqlx(default)]
    pub identity_not_after: Option<i64>,
}

/// The column [`EnrollmentRecord::identity_not_after`] of an `enrollments` row: its bound
/// certificate's expiry, through the registry's unique index on fingerprints.
pub const IDENTITY_NOT_AFTER: &str = "(SELECT c.not_after FROM issued_certificates c
    WHERE c.sha256 = enrollments.cert_sha256) AS identity_not_after";

/// What command results said about a device (see `store::inventory`).
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct Inventory {
    /// DeviceCapacity, GB.
    pub capacity_gb: Option<f64>,
    /// AvailableDeviceCapacity, GB.
    pub available_gb: Option<f64>,
    /// BatteryLevel, 0 to 1.
    pub battery_level: Option<f64>,
    /// IsSupervised.
    pub supervised: Option<bool>,
    /// Storage encrypted.
    pub encrypted: Option<bool>,
    /// PasscodePresent.
    pub passcode_present: Option<bool>,
    /// Apps in the last InstalledApplicationList.
    pub app_count: Option<i64>,
    /// Unix ms of the report that last updated it.
    pub inventory_updated_at: Option<i64>,
}
