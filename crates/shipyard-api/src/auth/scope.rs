//! Opening a workspace or the admin area for an authenticated caller.

use super::{Auth, TokenGrant};
use crate::error::ApiError;
use shipyard_core::{ProjectId, Role, TenantId, TokenScope};
use shipyard_store::{AdminScope, Projects, TenantScope, Tenants};

impl Auth {
    /// The caller's scope in workspace `raw_id`, for a route whose object is the workspace:
    /// [`Auth::workspace`], then [`Auth::admit`].
    pub async fn tenant(&self, tx: &mut (impl Tenants + Projects), raw_id: &str) -> Result<TenantScope, ApiError> {
        let scope = self.workspace(tx, raw_id).await?;
        self.admit()?;
        Ok(scope)
    }

    /// The caller's scope in workspace `raw_id`; 404 when it does not exist or the caller is
    /// not a member, so other workspaces' existence is never revealed. The token's scope is
    /// not checked yet: a caller that looks up an object in it calls [`Auth::admit`] once the
    /// object is found, so a foreign or missing object answers 404, never 403. A token limited
    /// to some projects sees only the workspaces those projects are in.
    pub async fn workspace(&self, tx: &mut (impl Tenants + Projects), raw_id: &str) -> Result<TenantScope, ApiError> {
        let not_found = || ApiError::not_found(format!("workspace {raw_id} not found"));
        let id = TenantId::parse(raw_id).map_err(|_| not_found())?;
        let scope = tx.tenant_scope(&self.user.id, &id).await?.ok_or_else(not_found)?;
        if let Some(projects) = self.only_projects() {
            let mut here = false;
            for project in &projects {
                if tx.project(&scope, project).await?.is_some() {
                    here = true;
                    break;
                }
            }
            if !here {
                return Err(not_found());
            }
        }
        Ok(scope)
    }

    /// 403 naming the missing scope when the caller's token does not cover this request.
    pub fn admit(&self) -> Result<(), ApiError> {
        self.token.as_ref().map_or(Ok(()), TokenGrant::check)
    }

    /// 404 (as `what` not found) unless the caller's token reaches `project`: a token limited
    /// to some projects sees no other, as if it were another workspace's.
    pub fn reach(&self, project: &ProjectId, what: impl FnOnce() -> String) -> Result<(), ApiError> {
        match &self.token {
            Some(token) if !token.reaches(project) => Err(ApiError::not_found(format!("{} not found", what()))),
            _ => Ok(()),
        }
    }

    /// A token limited to some projects reaches a database only when it is attached to them
    /// and to no other project (a database shared with another project would hand that
    /// project's data, and its outage, to the token): otherwise a read is 404, as for another
    /// workspace's database, and a change or a credential read is 403.
    pub async fn reach_database(
        &self,
        tx: &mut impl shipyard_store::Attachments,
        scope: &TenantScope,
        database: &shipyard_core::DatabaseId,
    ) -> Result<(), ApiError> {
        let Some(token) = self.token.as_ref().filter(|t| t.projects.is_some()) else {
            return Ok(());
        };
        let attached = tx.database_attachments(scope, database).await?;
        if self.sees_database(&attached) {
            return Ok(());
        }
        if token.needs == TokenScope::Read {
            return Err(ApiError::not_found(format!("database {database} not found")));
        }
        Err(ApiError::forbidden(format!(
            "this token is limited to some projects, and database {database} serves others or none"
        )))
    }

    /// Whether the caller may see a database with these attachments: always, but for a token
    /// limited to some projects only when they are all its own (the rule of
    /// [`Auth::reach_database`], for lists).
    pub fn sees_database(&self, attachments: &[shipyard_store::Attachment]) -> bool {
        match &self.token {
            Some(token) if token.projects.is_some() => {
                !attachments.is_empty() && attachments.iter().all(|a| token.reaches(&a.project_id))
            }
            _ => true,
        }
    }

    /// The projects a list may show (None: all): a limited token's.
    pub fn only_projects(&self) -> Option<Vec<ProjectId>> {
        self.token.as_ref().and_then(|t| t.projects.clone())
    }

    /// The admin capability; 403 for tokens and for users who are not platform admins.
    pub async fn admin(&self, tx: &mut impl Tenants) -> Result<AdminScope, ApiError> {
        self.require_session("admin routes")?;
        tx.admin_scope(&self.user.id)
            .await?
            .ok_or_else(|| ApiError::forbidden("admin routes are for platform admins only"))
    }
}

/// 403 unless the caller's role is at least `min` and the workspace accepts writes.
pub fn require_write(scope: &TenantScope, min: Role) -> Result<(), ApiError> {
    if !scope.role().at_least(min) {
        return Err(ApiError::forbidden(format!(
            "your role in this workspace is {}; this needs {} or above",
            scope.role(),
            min
        )));
    }
    if scope.suspended() {
        return Err(ApiError::forbidden(
            "this workspace is suspended: it can be read but not changed",
        ));
    }
    Ok(())
}
