//! A device's declarative syncs over the network: its `DeclarativeManagement` check-ins go to
//! the check-in path, signed like every other check-in, through [`SimDevice::send_limited`].

use super::{SimDevice, SimError};
use crate::sim::ddm::{DdmLink, DdmState, DdmSync, HeldDeclaration, SyncTokens, MAX_ANSWER_BYTES};
use std::future::Future;

impl SimDevice {
    /// One declarative sync (`tokens` unless `tokens_from_command` holds the command's, then
    /// the manifest, the declarations it lacks, and a status report when due), which the
    /// session runs after acknowledging a `DeclarativeManagement` command. On an error the
    /// device keeps what it held before, and reports what changed on its next sync.
    pub async fn ddm_sync(
        &mut self,
        tokens_from_command: Option<SyncTokens>,
    ) -> Result<DdmSync, SimError> {
        // The state is taken out for the sync so the link can borrow the device.
        let mut ddm = std::mem::take(&mut self.ddm);
        let ids = self.ids();
        let result = ddm
            .sync(
                &self.facts,
                &ids,
                &mut Wire { device: self },
                tokens_from_command,
            )
            .await;
        self.ddm = ddm;
        result
    }

    /// The declarations the device holds, with their states, by category then identifier.
    pub fn declarations(&self) -> Vec<HeldDeclaration> {
        self.ddm.declarations()
    }

    /// Everything the device holds of declarative management.
    pub fn ddm_state(&self) -> &DdmState {
        &self.ddm
    }
}

/// The server, as the device reaches it.
struct Wire<'a> {
    device: &'a SimDevice,
}

impl DdmLink for Wire<'_> {
    fn exchange(
        &mut self,
        endpoint: &str,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<Vec<u8>, SimError>> + Send {
        let device = self.device;
        let endpoint = endpoint.to_owned();
        async move {
            let path = device.config.checkin_path.clone();
            device
                .send_limited(&path, "DeclarativeManagement", body, MAX_ANSWER_BYTES)
                .await
                .map_err(|error| match error {
                    SimError::Status { status, .. } => SimError::DdmStatus { endpoint, status },
                    SimError::TooLarge { limit, .. } => SimError::DdmAnswer {
                        endpoint,
                        reason: format!("longer than {limit} bytes"),
                    },
                    other => other,
                })
        }
    }

    fn fetch_asset(&mut self, url: &str) -> impl Future<Output = Result<Vec<u8>, SimError>> + Send {
        let device = self.device;
        let url = url.to_owned();
        async move { device.get_as_device(&url, MAX_ANSWER_BYTES).await }
    }
}
