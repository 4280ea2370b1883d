//! Helpers for the detection corpus: building file trees and checking answers.
#![allow(dead_code, reason = "each corpus binary uses a different subset")]

use serde_json::json;
use shipyard_build::{Detection, FileTree};
use shipyard_core::ProjectType;

pub fn tree(files: &[(&str, &str)]) -> FileTree {
    let mut t = FileTree::new();
    for (path, text) in files {
        t.add_file(*path, *text);
    }
    t
}

pub fn pkg(value: serde_json::Value) -> String {
    value.to_string()
}

pub const LOCK_V3: &str = r#"{"name":"app","lockfileVersion":3,"packages":{}}"#;
pub const INDEX: &str = "<!doctype html><div id=\"root\"></div>";

pub fn vite_react() -> Vec<(&'static str, String)> {
    vec![
        (
            "package.json",
            pkg(json!({
                "name": "vite-react", "private": true, "type": "module",
                "scripts": { "dev": "vite", "build": "tsc -b && vite build", "preview": "vite preview" },
                "dependencies": { "react": "^18.3.1", "react-dom": "^18.3.1" },
                "devDependencies": { "vite": "^5.4.0", "@vitejs/plugin-react": "^4.3.1", "typescript": "^5.5.3" }
            })),
        ),
        ("package-lock.json", LOCK_V3.into()),
        ("index.html", INDEX.into()),
        ("vite.config.ts", String::new()),
        ("src/main.tsx", String::new()),
    ]
}

pub fn owned(files: &[(&'static str, String)]) -> FileTree {
    let mut t = FileTree::new();
    for (path, text) in files {
        t.add_file(*path, text.clone());
    }
    t
}

pub fn assert_kind(d: &Detection, ty: Option<ProjectType>, framework: Option<&str>) {
    assert_eq!(d.project_type, ty, "{d:#?}");
    assert_eq!(d.framework.as_deref(), framework, "{d:#?}");
    assert!(!d.evidence.is_empty(), "every answer explains itself");
}
