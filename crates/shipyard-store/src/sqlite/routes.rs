//! `LiveRoutes` for SQLite.

use super::Tx;
use crate::Result;
use crate::StoreError;
use crate::model::LiveRoute;
use crate::traits::LiveRoutes;
use shipyard_core::{EnvironmentId, ProjectId, ProjectStatus, ProjectType, ReleaseId, TenantId};

type RouteRow = (
    String,
    String,
    String,
    String,
    String,
    bool,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl LiveRoutes for Tx {
    async fn live_routes(&mut self, environment: Option<&EnvironmentId>) -> Result<Vec<LiveRoute>> {
        let rows: Vec<RouteRow> = sqlx::query_as(
            "SELECT e.id, e.tenant_id, e.project_id, e.host_label, t.slug, t.suspended, p.status, p.type, r.id, r.config,
                    (SELECT group_concat(d.hostname, ' ') FROM domains d
                     WHERE d.environment_id = e.id AND d.status = 'verified')
             FROM environments e
             JOIN projects p ON p.id = e.project_id
             JOIN tenants t ON t.id = e.tenant_id
             LEFT JOIN releases r ON r.environment_id = e.id AND r.status = 'active' AND r.artifact_available = 1
             WHERE ?1 IS NULL OR e.id = ?1",
        )
        .bind(environment.map(|e| e.as_str().to_owned()))
        .fetch_all(&mut *self.0)
        .await?;
        rows.into_iter()
            .map(
                |(env, tenant, project, label, slug, suspended, status, kind, release, config, domains)| {
                    Ok(LiveRoute {
                        environment_id: EnvironmentId::from_trusted(env),
                        tenant_id: TenantId::from_trusted(tenant),
                        project_id: ProjectId::from_trusted(project),
                        host_label: label,
                        domains: domains
                            .as_deref()
                            .unwrap_or_default()
                            .split_whitespace()
                            .map(str::to_owned)
                            .collect(),
                        workspace_slug: slug,
                        suspended,
                        status: ProjectStatus::parse(&status)
                            .ok_or_else(|| StoreError::Corrupt(format!("project status {status}")))?,
                        project_type: serde_json::from_value::<ProjectType>(serde_json::Value::String(kind.clone()))
                            .map_err(|_| StoreError::Corrupt(format!("project type {kind}")))?,
                        release: release.zip(config).and_then(|(id, config)| {
                            // One unreadable snapshot must not take every route down: that
                            // environment alone shows nothing live.
                            let parsed = shipyard_core::ReleaseConfig::parse(&config)
                                .inspect_err(
                                    |e| tracing::error!(release = %id, error = %e, "a release's config does not read"),
                                )
                                .ok()?;
                            Some((ReleaseId::from_trusted(id), parsed))
                        }),
                    })
                },
            )
            .collect()
    }
}
