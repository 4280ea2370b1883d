//! The CA account: made once per directory and kept sealed in the store, so restarts never
//! register a new one (a new account would start a new order budget at the CA).

use super::{Acme, AcmeError};
use instant_acme::{Account, AccountCredentials, NewAccount};
use shipyard_store::{Backend, Certificates, SqliteStore};

/// What seals the account's credentials to their row.
const AAD: &[u8] = b"acme-account";

impl Acme {
    /// The account at the configured directory: the stored one, else a new one (stored before
    /// it is used; when two servers race, the first stored wins and both use it).
    pub(super) async fn account(&self) -> Result<Account, AcmeError> {
        let directory = &self.config.directory;
        if let Some(sealed) = self.store.read().await?.acme_account(directory).await? {
            return self.restore(&sealed).await;
        }
        let contact: Vec<String> = self.config.email.iter().map(|e| format!("mailto:{e}")).collect();
        let contact: Vec<&str> = contact.iter().map(String::as_str).collect();
        let (_, credentials) = self
            .builder()?
            .create(
                &NewAccount {
                    contact: &contact,
                    terms_of_service_agreed: true,
                    only_return_existing: false,
                },
                directory.clone(),
                None,
            )
            .await
            .map_err(|e| AcmeError::Ca(format!("registering an account at {directory} failed: {e}")))?;
        let json = serde_json::to_vec(&credentials).map_err(|e| AcmeError::Ca(format!("the account: {e}")))?;
        let mut tx = self.store.write().await?;
        tx.save_acme_account(directory, &self.secret_box.seal(&json, AAD))
            .await?;
        let kept = tx.acme_account(directory).await?;
        SqliteStore::commit(tx).await?;
        let kept = kept.ok_or_else(|| AcmeError::Ca("the account was not kept".into()))?;
        self.restore(&kept).await
    }

    async fn restore(&self, sealed: &[u8]) -> Result<Account, AcmeError> {
        let json = self
            .secret_box
            .open(sealed, AAD)
            .map_err(|e| AcmeError::Ca(format!("the stored account does not open: {e}")))?;
        let credentials: AccountCredentials =
            serde_json::from_slice(&json).map_err(|e| AcmeError::Ca(format!("the stored account: {e}")))?;
        self.builder()?
            .from_credentials(credentials)
            .await
            .map_err(|e| AcmeError::Ca(format!("the CA at {} cannot be reached: {e}", self.config.directory)))
    }

    /// An account builder trusting the system's roots, or `--acme-ca-root` alone.
    fn builder(&self) -> Result<instant_acme::AccountBuilder, AcmeError> {
        let built = match &self.config.ca_root {
            Some(root) => Account::builder_with_root(root),
            None => Account::builder(),
        };
        built.map_err(|e| AcmeError::Ca(format!("cannot set up the ACME client: {e}")))
    }
}
