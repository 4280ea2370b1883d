//! `GET …/environments/<e>/runtime`: what is actually serving an environment, read from the
//! edge's route table (not from what the store would like to be live).

use crate::api::projects::live_url;
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiPath;
use crate::paths::EnvironmentPath;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
pub use shipyard_api_types::runtime::{
    AccessLogView, ActiveRelease, InstanceView, RouteView, RuntimeAttachment, RuntimeDomain, RuntimeView,
};
use shipyard_edge::Target;
use shipyard_runtime::InstanceStatus;
use shipyard_store::{Attachments, Backend, Domains, Releases};

fn instance_view(s: shipyard_runtime::InstanceState, release: &str) -> InstanceView {
    InstanceView {
        number: s.number,
        id: s.id,
        release_id: release.to_owned(),
        status: s.status.as_str().to_owned(),
        port: Some(s.own_port),
        pid: s.pid,
        started_at: s.started_at,
        restarts: s.restarts,
        last_exit_code: s.last_exit_code,
        last_exit_reason: s.last_exit_reason,
    }
}

/// What serves an environment: status, live URL, active release and routes.
#[utoipa::path(get, path = "/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}/runtime",
    tag = "deployments",
    params(EnvironmentPath),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = RuntimeView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_runtime(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<EnvironmentPath>,
) -> ApiResult<Json<RuntimeView>> {
    let mut tx = state.store.read().await?;
    let (scope, project, env) = path.load(&auth, &mut tx).await?;
    let active = tx.active_release(&scope, &env.id).await?;
    let domains = tx
        .list_domains(&scope, &project.id)
        .await?
        .into_iter()
        .filter(|d| d.environment_id == env.id)
        .map(|d| RuntimeDomain {
            id: d.id.to_string(),
            hostname: d.hostname,
            status: d.status.as_str().to_owned(),
            points_here: d.dns.points_here,
        })
        .collect();
    let running_with = active
        .as_ref()
        .map(|r| r.config.attachments.clone())
        .unwrap_or_default();
    let attachments = tx
        .project_attachments(&scope, &project.id)
        .await?
        .into_iter()
        .filter(|a| a.covers(&env.id))
        .map(|a| RuntimeAttachment {
            in_active_release: running_with.iter().any(|p| p.database_id == a.database_id.as_str()),
            database_id: a.database_id.to_string(),
            env_var: a.env_var,
        })
        .collect();
    let host = state.runtime.host(&env.host_label, scope.tenant_slug().as_str());
    let Serving {
        status,
        routes,
        mut instances,
    } = serving(&state, &host, project.status == shipyard_core::ProjectStatus::Active);
    // A replaced release's instances finish their requests before they stop (`draining`).
    for set in state.runtime.instance_sets() {
        if instances.iter().any(|i| i.release_id == set.release.as_str()) {
            continue;
        }
        let Some(release) = tx.release(&scope, &set.release).await? else {
            continue;
        };
        if release.environment_id == env.id {
            let release = release.id.to_string();
            let live = set.states().into_iter().filter(|s| s.status != InstanceStatus::Stopped);
            instances.extend(live.map(|s| instance_view(s, &release)));
        }
    }
    Ok(Json(RuntimeView {
        status: status.to_owned(),
        urls: vec![live_url(&state, &scope, &env)],
        active_release: active.map(|r| ActiveRelease {
            id: r.id.to_string(),
            version: format!("v{}", r.version),
            commit_sha: r.commit_sha,
            activated_at: r.activated_at,
        }),
        instances,
        routes,
        domains,
        attachments,
        access_log: AccessLogView {
            dropped: state.runtime.access_dropped(env.id.as_str()),
        },
    }))
}

/// What the edge serves for a live host now.
pub(crate) struct Serving {
    /// `stopped`, `starting`, `running`, `degraded`, `crashed` or `paused`.
    pub status: &'static str,
    /// The routes to it.
    pub routes: Vec<RouteView>,
    /// The active release's instances.
    pub instances: Vec<InstanceView>,
}

/// What the edge serves for `host`, read from its route table (the one place an environment's
/// runtime status is decided; the console's dashboard reads it too).
pub(crate) fn serving(state: &AppState, host: &str, project_active: bool) -> Serving {
    let mut instances = Vec::new();
    let (status, routes) = match state.runtime.routes().get(host).as_deref() {
        Some(Target::Static { release, .. }) => (
            "running",
            vec![RouteView {
                host: host.to_owned(),
                target: format!("artifact:{release}"),
            }],
        ),
        Some(Target::Proxy { release, upstreams, .. }) => {
            let states = state.runtime.instances(release).map(|i| i.states()).unwrap_or_default();
            let count = |status: InstanceStatus| states.iter().filter(|s| s.status == status).count();
            let (healthy, crashed) = (count(InstanceStatus::Healthy), count(InstanceStatus::Crashed));
            let states_all_starting = count(InstanceStatus::Starting) == states.len();
            instances = states.into_iter().map(|s| instance_view(s, release)).collect();
            let status = if healthy == instances.len() {
                "running"
            } else if crashed == instances.len() {
                "crashed"
            } else if states_all_starting {
                "starting"
            } else {
                "degraded"
            };
            let routes = upstreams
                .addrs()
                .iter()
                .map(|a| RouteView {
                    host: host.to_owned(),
                    target: format!("instance:{a}"),
                })
                .collect();
            (status, routes)
        }
        Some(Target::Unavailable { .. }) if !project_active => (
            "paused",
            vec![RouteView {
                host: host.to_owned(),
                target: "unavailable".into(),
            }],
        ),
        Some(Target::Unavailable { .. }) => (
            "stopped",
            vec![RouteView {
                host: host.to_owned(),
                target: "unavailable".into(),
            }],
        ),
        None => ("stopped", Vec::new()),
    };
    Serving {
        status,
        routes,
        instances,
    }
}
