//! The operations of the served OpenAPI document, so the matrices cover every route that
//! exists, including routes added after the matrices were written.

use serde_json::Value;
use std::collections::HashMap;

/// One operation of the document.
#[derive(Debug, Clone)]
pub struct Operation {
    /// `get`, `post`, …
    pub method: reqwest::Method,
    /// Path template, e.g. `/tenants/{tenantId}/members`.
    pub path: String,
    /// Names of the path parameters, in order.
    pub params: Vec<String>,
    /// Whether it declares no security requirement (answers without credentials).
    pub public: bool,
    /// Properties of its JSON request body with their declared types; None when it has none.
    pub body: Option<Vec<(String, String)>>,
}

impl Operation {
    /// The path with each parameter replaced by `values[param]`; panics naming a parameter
    /// that has no value, so a new route cannot slip past the matrices.
    pub fn fill(&self, values: &HashMap<&str, String>) -> String {
        let mut path = self.path.clone();
        for param in &self.params {
            let value = values.get(param.as_str()).unwrap_or_else(|| {
                panic!(
                    "no fixture for path parameter `{param}` of {} {}: add one to the matrix",
                    self.method, self.path
                )
            });
            path = path.replace(&format!("{{{param}}}"), value);
        }
        path
    }

    /// The path with every parameter set to `value`.
    pub fn fill_all(&self, value: &str) -> String {
        let values = self.params.iter().map(|p| (p.as_str(), value.to_owned())).collect();
        self.fill(&values)
    }

    /// Whether this operation changes state.
    pub fn is_write(&self) -> bool {
        self.method != reqwest::Method::GET
    }
}

/// Follows `$ref`s to the schema they name.
pub fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        Some(name) => resolve(doc, &doc["components"]["schemas"][name]),
        None => schema,
    }
}

fn type_of(schema: &Value) -> String {
    match &schema["type"] {
        Value::String(t) => t.clone(),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("object")
            .to_owned(),
        _ => "object".to_owned(),
    }
}

/// Every operation of `doc`, excluding the documentation routes themselves.
pub fn operations(doc: &Value) -> Vec<Operation> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let Ok(method) = method.to_uppercase().parse::<reqwest::Method>() else {
                continue;
            };
            let params = path
                .split('/')
                .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .map(str::to_owned)
                .collect();
            let public = op
                .get("security")
                .is_none_or(|s| s.as_array().is_some_and(Vec::is_empty));
            let body = op.get("requestBody").map(|rb| {
                let schema = resolve(doc, &rb["content"]["application/json"]["schema"]);
                schema["properties"]
                    .as_object()
                    .map(|props| {
                        props
                            .iter()
                            .map(|(k, v)| (k.clone(), type_of(resolve(doc, v))))
                            .collect()
                    })
                    .unwrap_or_default()
            });
            ops.push(Operation {
                method,
                path: path.clone(),
                params,
                public,
                body,
            });
        }
    }
    assert!(!ops.is_empty(), "the document lists no operations");
    ops
}
