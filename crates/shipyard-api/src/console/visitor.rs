//! The signed-in visitor of a console page: their session (as the API's `Auth` resolves it),
//! their workspaces, the form token of their session, and a caller of the API as them.

use super::Console;
use super::call::Caller;
use super::csrf;
use super::page::{Chrome, Shown, Signed, Workspace};
use crate::api::views::membership_view;
use crate::auth::{Auth, Transport};
use crate::paths::TenantPath;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use shipyard_api_types::account::MembershipView;
use shipyard_store::{Backend, TenantScope, Tenants};

/// A signed-in visitor.
pub struct Visitor {
    /// Who they are, as the API sees them.
    pub auth: Auth,
    /// Their workspaces.
    pub memberships: Vec<MembershipView>,
    /// The API, as them.
    pub call: Caller,
    session: String,
}

impl FromRequestParts<Console> for Visitor {
    type Rejection = Shown;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Shown> {
        let session = Transport::of(parts)
            .session_value(&parts.headers)
            .ok_or_else(Shown::to_login)?;
        // The console is for sessions only: a bearer token (or a proxy's Basic credentials) is
        // not looked at, so the API's own extractor resolves the session, with the Origin
        // check on a write.
        parts.headers.remove(axum::http::header::AUTHORIZATION);
        let auth = Auth::from_request_parts(parts, &console.app).await?;
        let memberships = {
            let mut tx = console.app.store.read().await?;
            tx.memberships(&auth.user.id)
                .await?
                .into_iter()
                .map(membership_view)
                .collect()
        };
        Ok(Self {
            auth,
            memberships,
            call: Caller::new(console.api.clone(), parts),
            session,
        })
    }
}

/// A console path's ids (as `Path` reads them), each checked to be a plain id first.
pub struct Ids<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send> FromRequestParts<Console> for Ids<T> {
    type Rejection = Shown;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Shown> {
        let unknown = || Shown::Error(axum::http::StatusCode::NOT_FOUND, "no such page".to_owned(), None);
        let raw = axum::extract::RawPathParams::from_request_parts(parts, console)
            .await
            .map_err(|_| unknown())?;
        plain_ids(&raw.iter().map(|(_, v)| v).collect::<Vec<_>>())?;
        let axum::extract::Path(ids) = axum::extract::Path::<T>::from_request_parts(parts, console)
            .await
            .map_err(|_| unknown())?;
        Ok(Self(ids))
    }
}

/// 404 unless every id of a console path is a plain id (`ten_…`, `DEP-0042`): they are put into
/// API paths, where a decoded `/` or `?` would name another route.
pub fn plain_ids(ids: &[&str]) -> Result<(), Shown> {
    let plain = |id: &&str| {
        (1..=100).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    match ids.iter().find(|id| !plain(id)) {
        None => Ok(()),
        Some(id) => Err(Shown::Error(
            axum::http::StatusCode::NOT_FOUND,
            format!("`{id}` is not an id this console knows"),
            None,
        )),
    }
}

impl Visitor {
    /// The frame of a page about workspace `tenant`.
    pub fn chrome(&self, tenant: &str) -> Chrome {
        Chrome {
            signed: Some(Signed {
                name: self.auth.user.name.clone(),
                workspaces: self
                    .memberships
                    .iter()
                    .map(|m| Workspace {
                        id: m.tenant_id.clone(),
                        name: m.tenant_name.clone(),
                        current: m.tenant_id == tenant,
                    })
                    .collect(),
                csrf: self.csrf(),
            }),
            ..Chrome::anonymous()
        }
    }

    /// The form token of this session.
    pub fn csrf(&self) -> String {
        csrf::token_for(&self.session)
    }

    /// 403 unless a form carried this session's token.
    pub fn check(&self, given: Option<&str>) -> Result<(), Shown> {
        match given {
            Some(given) if csrf::matches(&self.session, given) => Ok(()),
            _ => Err(Shown::forged()),
        }
    }

    /// The visitor's scope in a workspace (404 for one that is not theirs).
    pub async fn scope(&self, console: &Console, tenant: &str) -> Result<TenantScope, Shown> {
        let mut tx = console.app.store.read().await?;
        let path = TenantPath {
            tenant_id: tenant.to_owned(),
        };
        Ok(path.load(&self.auth, &mut tx).await?)
    }

    /// A refusal shown inside this visitor's frame.
    pub fn framed(&self, tenant: &str, shown: Shown) -> Shown {
        match shown {
            Shown::Error(status, message, None) => Shown::Error(status, message, Some(self.chrome(tenant))),
            other => other,
        }
    }
}
