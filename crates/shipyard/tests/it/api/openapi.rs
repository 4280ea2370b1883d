//! The OpenAPI document: pinned by a snapshot, and checked against the seed reference.

use crate::api::operations::resolve;
use crate::support::TestServer;
use serde_json::Value;

/// Seed-reference routes delivered so far: method, path, and field names the reference
/// names for them (`response:` a 2xx body field path, `request:` a body property).
const SEED_ROUTES: &[(&str, &str, &[&str])] = &[
    ("get", "/auth/me", &["response:memberships[].tenantId"]),
    ("get", "/account/api-tokens", &[]),
    ("post", "/account/api-tokens", &[]),
    ("delete", "/account/api-tokens/{tokenId}", &[]),
    (
        "get",
        "/tenants/{tenantId}/projects",
        &["param:search", "param:status", "param:page", "response:items[].id"],
    ),
    (
        "post",
        "/tenants/{tenantId}/projects",
        &[
            "request:name",
            "request:type",
            "request:repositoryConnectionId",
            "request:rootDirectory",
            "request:productionBranch",
            "request:runsServer",
            "request:config",
        ],
    ),
    (
        "post",
        "/tenants/{tenantId}/projects/detect",
        &[
            "request:repositoryConnectionId",
            "request:branch",
            "request:rootDirectory",
            "response:type",
            "response:runsServer",
            "response:installCommand",
            "response:buildCommand",
            "response:startCommand",
            "response:framework",
            "response:evidence",
            "response:confidence",
        ],
    ),
    (
        "get",
        "/tenants/{tenantId}/projects/{projectId}",
        &[
            "response:environments[].id",
            "response:config.build",
            "response:config.runtime",
        ],
    ),
    (
        "patch",
        "/tenants/{tenantId}/projects/{projectId}",
        &[
            "request:name",
            "request:description",
            "request:rootDirectory",
            "request:status",
        ],
    ),
    (
        "patch",
        "/tenants/{tenantId}/projects/{projectId}/build-config",
        &[
            "request:installCommand",
            "request:buildCommand",
            "request:outputDirectory",
            "request:rootDirectory",
            "request:nodeVersion",
            "request:packageManager",
        ],
    ),
    (
        "patch",
        "/tenants/{tenantId}/projects/{projectId}/runtime-config",
        &[
            "request:runtimeType",
            "request:startCommand",
            "request:port",
            "request:healthCheckPath",
            "request:limits",
            "request:instances",
        ],
    ),
    (
        "get",
        "/tenants/{tenantId}/secrets",
        &["param:scope", "param:projectId", "param:environmentId"],
    ),
    (
        "post",
        "/tenants/{tenantId}/secrets",
        &[
            "request:name",
            "request:value",
            "request:scope",
            "request:projectId",
            "request:environmentId",
        ],
    ),
    ("patch", "/tenants/{tenantId}/secrets/{secretId}", &["request:value"]),
    ("delete", "/tenants/{tenantId}/secrets/{secretId}", &[]),
    (
        "post",
        "/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}/deployments",
        &["request:branch", "request:note", "response:ref", "response:status"],
    ),
    (
        "get",
        "/tenants/{tenantId}/projects/{projectId}/deployments",
        &["param:environmentId", "param:status", "param:page"],
    ),
    (
        "get",
        "/tenants/{tenantId}/deployments/{deploymentId}",
        &[
            "response:status",
            "response:error",
            "response:release",
            "response:events",
        ],
    ),
    (
        "get",
        "/tenants/{tenantId}/deployments/{deploymentId}/logs",
        &["param:after"],
    ),
    ("get", "/tenants/{tenantId}/deployments/{deploymentId}/stream", &[]),
    ("post", "/tenants/{tenantId}/deployments/{deploymentId}/cancel", &[]),
    ("post", "/tenants/{tenantId}/deployments/{deploymentId}/retry", &[]),
    (
        "get",
        "/tenants/{tenantId}/projects/{projectId}/releases",
        &["param:environmentId"],
    ),
];

/// The schema of property `name`, looking through `allOf` (flattened structs).
fn property<'a>(doc: &'a Value, schema: &'a Value, name: &str) -> Option<&'a Value> {
    let schema = resolve(doc, schema);
    if let Some(found) = schema.get("properties").and_then(|p| p.get(name)) {
        return Some(found);
    }
    schema["allOf"]
        .as_array()?
        .iter()
        .find_map(|part| property(doc, part, name))
}

/// The schema at a dotted field path, where `name[]` steps into an array's items.
fn field<'a>(doc: &'a Value, mut schema: &'a Value, path: &str) -> Option<&'a Value> {
    for part in path.split('.') {
        let (name, array) = part.strip_suffix("[]").map_or((part, false), |n| (n, true));
        schema = property(doc, schema, name)?;
        if array {
            schema = resolve(doc, schema).get("items")?;
        }
    }
    Some(schema)
}

#[tokio::test]
async fn the_document_matches_its_snapshot() {
    let server = TestServer::in_process(&[]);
    let doc = server.openapi().await;
    insta::assert_json_snapshot!("openapi", doc);
}

#[tokio::test]
async fn every_delivered_seed_route_is_documented_with_the_seed_field_names() {
    let server = TestServer::in_process(&[]);
    let doc = server.openapi().await;
    for (method, path, fields) in SEED_ROUTES {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is missing from the OpenAPI document");
        for spec in *fields {
            let (kind, field_path) = spec.split_once(':').expect("kind:path");
            if kind == "param" {
                let params = op["parameters"].as_array().expect("parameters");
                assert!(
                    params.iter().any(|p| p["name"] == field_path),
                    "{method} {path}: parameter `{field_path}` not documented"
                );
                continue;
            }
            let schema = match kind {
                "response" => {
                    let ok = op["responses"]
                        .as_object()
                        .and_then(|r| r.iter().find(|(code, _)| code.starts_with('2')));
                    &ok.expect("a 2xx response").1["content"]["application/json"]["schema"]
                }
                _ => &op["requestBody"]["content"]["application/json"]["schema"],
            };
            assert!(
                field(&doc, schema, field_path).is_some(),
                "{method} {path}: {kind} field `{field_path}` not documented"
            );
        }
    }
}
