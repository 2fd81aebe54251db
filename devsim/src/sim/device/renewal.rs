//! Identity renewal on the device side: an InstallProfile whose profile holds an MDM payload
//! (the server's renewal profile) is installed the way a device does it — payloads decrypted
//! with the current identity, a new identity obtained through the SCEP payload — and the device
//! then speaks with the new identity: the acknowledgement already goes out on a new connection
//! that presents it.

use super::super::enroll::{install_mdm_profile, Enrolled};
use super::super::responder::{Answer, ReceivedCommand};
use super::{tls, SimDevice, SimError};
use openssl::pkey::PKey;
use openssl::x509::X509;
use plist::Value;
use std::sync::Arc;

impl SimDevice {
    /// Installs `command`'s profile if it holds an MDM payload, switching to the identity it
    /// gives; the answer to send. `None` for any other command or profile (answered as usual).
    pub(super) async fn install_mdm_profile(
        &mut self,
        command: &ReceivedCommand,
    ) -> Option<Answer> {
        if command.request_type != "InstallProfile" {
            return None;
        }
        let payload = command.command.get("Payload").and_then(Value::as_data)?;
        let current = (&self.signer.0, &self.signer.1);
        let installed = install_mdm_profile(&self.config.server_ca_pem, payload, current).await;
        let enrolled = match installed {
            Ok(Some(enrolled)) => enrolled,
            Ok(None) => return None,
            Err(e) => {
                return Some(Answer::Error {
                    code: 4001,
                    domain: "MCProfileErrorDomain",
                    description: format!("The profile could not be installed: {e}"),
                })
            }
        };
        Some(match self.switch_identity(&enrolled) {
            Ok(()) => {
                self.renewals += 1;
                Answer::Acknowledged(plist::Dictionary::new())
            }
            Err(e) => Answer::Error {
                code: 4001,
                domain: "MCProfileErrorDomain",
                description: format!("The new identity could not be used: {e}"),
            },
        })
    }

    /// Speaks with `enrolled`'s identity from the next request on (a new connection).
    fn switch_identity(&mut self, enrolled: &Enrolled) -> Result<(), SimError> {
        let cert = X509::from_pem(enrolled.cert_pem.as_bytes())
            .map_err(|e| SimError::Identity(e.to_string()))?;
        let key = PKey::private_key_from_pem(enrolled.key_pem.as_bytes())
            .map_err(|e| SimError::Identity(e.to_string()))?;
        let mut config =
            (*tls::client_config(&self.config, &enrolled.cert_pem, &enrolled.key_pem)?).clone();
        config.resumption = self.tls.resumption.clone();
        let config = Arc::new(config);
        self.client = tls::http_client(&config)?;
        self.tls = config;
        self.signer = Arc::new((cert, key));
        Ok(())
    }

    /// The identity certificate the device presents now.
    pub fn certificate(&self) -> &X509 {
        &self.signer.0
    }

    /// How many times the device renewed its identity.
    pub fn renewals(&self) -> usize {
        self.renewals
    }
}
