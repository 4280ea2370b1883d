//! The detection corpus, Python and plain sites: `django-admin startproject`, Flask, FastAPI,
//! poetry, uv, Pipfile and WSGI layouts, plain HTML, and empty or unknown repositories.

mod common;

use common::*;
use shipyard_build::{FileTree, detect};
use shipyard_core::{PackageManager, ProjectType};

#[test]
fn plain_html_site() {
    let d = detect(&tree(&[
        ("index.html", INDEX),
        ("style.css", ""),
        ("about/index.html", INDEX),
    ]));
    assert_kind(&d, Some(ProjectType::Static), Some("Static HTML"));
    assert_eq!((d.build_command.as_deref(), d.install_command.as_deref()), (None, None));
    assert_eq!(d.output_directory.as_deref(), Some("."));
    assert!(d.confidence >= 0.85);
}

#[test]
fn flask_with_requirements() {
    let d = detect(&tree(&[
        ("requirements.txt", "Flask==3.0.3\npython-dotenv\n"),
        ("app.py", "from flask import Flask\n\napp = Flask(__name__)\n"),
        (".python-version", "3.11\n"),
    ]));
    assert_kind(&d, Some(ProjectType::Python), Some("Flask"));
    assert_eq!(
        d.start_command.as_deref(),
        Some("gunicorn app:app --bind 0.0.0.0:$PORT")
    );
    assert_eq!(
        d.install_command.as_deref(),
        Some("pip install -r requirements.txt && pip install gunicorn")
    );
    assert_eq!(d.package_manager, Some(PackageManager::Pip));
    assert_eq!(d.python_version.as_deref(), Some("3.11"));
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("gunicorn is not among the dependencies"))
    );
}

#[test]
fn fastapi_with_uvicorn() {
    let d = detect(&tree(&[
        ("requirements.txt", "fastapi>=0.110\nuvicorn[standard]\n"),
        ("main.py", "from fastapi import FastAPI\napi = FastAPI()\n"),
    ]));
    assert_kind(&d, Some(ProjectType::Python), Some("FastAPI"));
    assert_eq!(
        d.start_command.as_deref(),
        Some("uvicorn main:api --host 0.0.0.0 --port $PORT")
    );
    assert_eq!(d.install_command.as_deref(), Some("pip install -r requirements.txt"));
    assert_eq!(d.port, Some(8000));
}

#[test]
fn django_startproject_layout() {
    let manage = "import os\nimport sys\n\ndef main():\n    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')\n";
    let d = detect(&tree(&[
        ("manage.py", manage),
        ("mysite/__init__.py", ""),
        ("mysite/settings.py", ""),
        ("mysite/wsgi.py", ""),
        ("requirements.txt", "Django>=5.0,<6\ngunicorn\n"),
        ("runtime.txt", "python-3.12.3\n"),
    ]));
    assert_kind(&d, Some(ProjectType::Python), Some("Django"));
    assert_eq!(
        d.start_command.as_deref(),
        Some("gunicorn mysite.wsgi --bind 0.0.0.0:$PORT")
    );
    assert_eq!(d.install_command.as_deref(), Some("pip install -r requirements.txt"));
    assert_eq!(d.python_version.as_deref(), Some("3.12.3"));
}

#[test]
fn poetry_uv_and_pipfile_projects() {
    let poetry = detect(&tree(&[
        (
            "pyproject.toml",
            "[tool.poetry]\nname = \"svc\"\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\nflask = \"^3.0\"\ngunicorn = \"^22\"\n",
        ),
        ("poetry.lock", ""),
        ("app.py", "app = Flask(__name__)\n"),
    ]));
    assert_kind(&poetry, Some(ProjectType::Python), Some("Flask"));
    assert_eq!(poetry.package_manager, Some(PackageManager::Poetry));
    assert_eq!(
        poetry.install_command.as_deref(),
        Some("poetry install --only main --no-root")
    );

    let uv = detect(&tree(&[
        (
            "pyproject.toml",
            "[project]\nname = \"svc\"\nrequires-python = \">=3.11\"\ndependencies = [\"fastapi\", \"uvicorn>=0.30\"]\n",
        ),
        ("uv.lock", ""),
        ("main.py", "app = FastAPI()\n"),
    ]));
    assert_kind(&uv, Some(ProjectType::Python), Some("FastAPI"));
    assert_eq!(uv.package_manager, Some(PackageManager::Uv));
    assert_eq!(uv.install_command.as_deref(), Some("uv sync --frozen --no-dev"));
    assert_eq!(uv.python_version.as_deref(), Some(">=3.11"));

    let pipenv = detect(&tree(&[
        (
            "Pipfile",
            "[packages]\nflask = \"*\"\ngunicorn = \"*\"\n\n[requires]\npython_version = \"3.11\"\n",
        ),
        ("wsgi.py", "application = Flask(__name__)\n"),
    ]));
    assert_kind(&pipenv, Some(ProjectType::Python), Some("Flask"));
    assert_eq!(
        pipenv.start_command.as_deref(),
        Some("gunicorn wsgi:application --bind 0.0.0.0:$PORT")
    );
    assert!(
        pipenv
            .install_command
            .as_deref()
            .is_some_and(|c| c.contains("pipenv install"))
    );
}

#[test]
fn plain_wsgi_app() {
    let d = detect(&tree(&[
        ("requirements.txt", "gunicorn\n"),
        ("wsgi.py", "def application(environ, start_response): ...\n"),
    ]));
    assert_kind(&d, Some(ProjectType::Python), Some("Python"));
    assert_eq!(
        d.start_command.as_deref(),
        Some("gunicorn wsgi:application --bind 0.0.0.0:$PORT")
    );
}

#[test]
fn empty_and_unknown_repositories_say_what_is_missing() {
    let empty = detect(&FileTree::new());
    assert_kind(&empty, None, None);
    assert_eq!(empty.confidence, 0.0);
    assert!(empty.evidence[0].contains("empty"));

    let unknown = detect(&tree(&[("README.md", "# notes"), ("docs/guide.md", "")]));
    assert_kind(&unknown, None, None);
    assert_eq!(unknown.confidence, 0.0);
    assert!(
        unknown.evidence[0].contains("No package.json"),
        "{:?}",
        unknown.evidence
    );

    let broken = detect(&tree(&[("package.json", "{ not json")]));
    assert_kind(&broken, None, None);
    assert!(broken.evidence.iter().any(|e| e.contains("not valid JSON")));
}
