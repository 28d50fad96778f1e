//! What the advisor knows about each framework and language beyond what a run measures: how
//! well its ecosystem covers an admin back-office, server-rendered pages, an ORM, strict typing
//! and WebSockets, and each language's data and ML libraries.
//!
//! Levels are 0–100 judgements, each tied to a curated fact (`data/facts.toml`) by id, so the
//! evidence a score shows is a source with its year, not an opinion. A framework not listed
//! gets no ecosystem score rather than a guess.

use super::Evidence;

/// A curated judgement: a level and the fact behind it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// 0 (not available) to 100 (built in and mature).
    pub level: f64,
    /// The id of the fact in `data/facts.toml`.
    pub fact: &'static str,
    /// The judgement in one sentence, shown when the fact itself is not at hand.
    pub statement: &'static str,
}

/// What one framework's ecosystem offers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Framework {
    pub id: &'static str,
    pub admin: Level,
    pub server_pages: Level,
    pub orm: Level,
    pub typing: Level,
    pub websockets: Level,
}

const fn l(level: f64, fact: &'static str, statement: &'static str) -> Level {
    Level {
        level,
        fact,
        statement,
    }
}

/// The seed stacks' frameworks, by the `framework` field of a run's stack.
pub const FRAMEWORKS: &[Framework] = &[
    Framework {
        id: "django",
        admin: l(100.0, "django-admin", "Django ships an admin back-office generated from the models"),
        server_pages: l(100.0, "django-templates", "Django renders pages with its own template engine"),
        orm: l(100.0, "django-orm", "Django includes an ORM with migrations"),
        typing: l(40.0, "python-type-hints", "Python type hints are optional and checked by external tools (mypy, pyright)"),
        websockets: l(60.0, "django-channels", "Django serves WebSockets through Channels on an ASGI server, a separate package"),
    },
    Framework {
        id: "flask",
        admin: l(60.0, "flask-admin", "Flask-Admin adds an admin interface as an extension"),
        server_pages: l(90.0, "flask-jinja", "Flask renders pages with Jinja2 out of the box"),
        orm: l(70.0, "sqlalchemy", "SQLAlchemy is the usual ORM, added as an extension"),
        typing: l(40.0, "python-type-hints", "Python type hints are optional and checked by external tools (mypy, pyright)"),
        websockets: l(40.0, "flask-socketio", "Flask has no WebSocket support of its own: Flask-SocketIO adds it and needs eventlet, gevent or threads"),
    },
    Framework {
        id: "fastapi",
        admin: l(50.0, "sqladmin", "FastAPI has no admin; third-party packages such as SQLAdmin add one"),
        server_pages: l(60.0, "fastapi-templates", "FastAPI can render Jinja2 templates, but is built for JSON APIs"),
        orm: l(70.0, "sqlalchemy", "SQLAlchemy or SQLModel are the usual ORMs, added by the project"),
        typing: l(70.0, "fastapi-validation-by-types", "FastAPI is built on type hints: Pydantic validates them at run time and mypy checks them"),
        websockets: l(70.0, "fastapi-websockets", "FastAPI serves WebSockets natively through Starlette"),
    },
    Framework {
        id: "express",
        admin: l(50.0, "adminjs", "Node frameworks have no built-in admin; AdminJS adds one"),
        server_pages: l(70.0, "express-views", "Express renders pages through pluggable template engines (Pug, EJS)"),
        orm: l(70.0, "orms-node", "Prisma, Sequelize and TypeORM are the usual ORMs, added by the project"),
        typing: l(60.0, "typescript-for-node", "TypeScript adds compile-time types to any Node framework"),
        websockets: l(90.0, "node-ws", "ws and Socket.IO are mature WebSocket libraries for Node"),
    },
    Framework {
        id: "fastify",
        admin: l(40.0, "adminjs", "Node frameworks have no built-in admin; AdminJS adds one"),
        server_pages: l(60.0, "fastify-view", "Fastify renders pages through the @fastify/view plugin"),
        orm: l(70.0, "orms-node", "Prisma, Sequelize and TypeORM are the usual ORMs, added by the project"),
        typing: l(80.0, "typescript-for-node", "Fastify ships TypeScript types and typed schemas"),
        websockets: l(90.0, "fastify-websocket", "ws and Socket.IO are mature WebSocket libraries for Node"),
    },
    Framework {
        id: "nestjs",
        admin: l(50.0, "adminjs", "Node frameworks have no built-in admin; AdminJS adds one"),
        server_pages: l(60.0, "nestjs-mvc", "NestJS renders pages through the underlying Express or Fastify engine"),
        orm: l(90.0, "nestjs-orm-integrations", "NestJS integrates TypeORM, Prisma and Sequelize as modules"),
        typing: l(100.0, "nestjs-typescript-first", "NestJS is written for TypeScript first"),
        websockets: l(100.0, "nestjs-gateways", "NestJS has WebSocket gateways built in (ws or Socket.IO)"),
    },
    Framework {
        id: "node",
        admin: l(20.0, "adminjs", "Node frameworks have no built-in admin; AdminJS adds one"),
        server_pages: l(30.0, "node-http-plain", "node:http has no routing or templates: everything is added by hand"),
        orm: l(70.0, "orms-node", "Prisma, Sequelize and TypeORM are the usual ORMs, added by the project"),
        typing: l(60.0, "typescript-for-node", "TypeScript adds compile-time types to any Node framework"),
        websockets: l(80.0, "node-ws", "ws and Socket.IO are mature WebSocket libraries for Node"),
    },
];

/// The framework a run's stack uses, by its `framework` field (`node:http` is `node`).
pub fn framework(name: &str) -> Option<&'static Framework> {
    let name = name.to_ascii_lowercase();
    let name = match name.as_str() {
        "node:http" | "http" => "node",
        n => n,
    };
    FRAMEWORKS.iter().find(|f| f.id == name)
}

/// A language's data-processing and ML libraries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LanguageLibraries {
    pub data: Level,
    pub ml: Level,
    /// Whether PyTorch / scikit-learn models can run inside the API process.
    pub ml_in_process: Level,
}

pub const PYTHON: LanguageLibraries = LanguageLibraries {
    data: l(
        100.0,
        "python-data",
        "pandas and Polars are the standard data-processing libraries, in Python",
    ),
    ml: l(
        100.0,
        "python-ml-libraries",
        "PyTorch, TensorFlow and scikit-learn are Python-first",
    ),
    ml_in_process: l(
        100.0,
        "python-ml-libraries",
        "PyTorch, TensorFlow and scikit-learn are Python-first",
    ),
};

pub const JAVASCRIPT: LanguageLibraries = LanguageLibraries {
    data: l(
        50.0,
        "js-data",
        "JavaScript has data libraries (Danfo.js, Arquero) with a far smaller ecosystem",
    ),
    ml: l(
        35.0,
        "onnxruntime-node",
        "Node runs exported models (ONNX Runtime, TensorFlow.js) but not PyTorch or scikit-learn",
    ),
    ml_in_process: l(
        0.0,
        "pytorch-onnx-export",
        "Node runs exported models (ONNX Runtime, TensorFlow.js) but not PyTorch or scikit-learn",
    ),
};

/// The evidence for a level: the curated fact's own statement, source and year from
/// `data/facts.toml` (a test keeps every level's fact there); the level's statement, marked as
/// unsourced, only if one went missing.
pub fn evidence(level: &Level) -> Evidence {
    match crate::facts::get(level.fact) {
        Some(f) => Evidence::Fact {
            id: f.id.clone(),
            statement: f.statement.clone(),
            source: Some(f.source.clone()),
            year: Some(f.year.clone()),
        },
        None => Evidence::Fact {
            id: level.fact.to_string(),
            statement: level.statement.to_string(),
            source: None,
            year: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every judgement cites a fact that `data/facts.toml` holds, so no score's evidence is an
    /// unsourced opinion.
    #[test]
    fn every_level_cites_a_curated_fact() {
        let mut levels: Vec<&Level> = FRAMEWORKS
            .iter()
            .flat_map(|f| [&f.admin, &f.server_pages, &f.orm, &f.typing, &f.websockets])
            .collect();
        for lang in [&PYTHON, &JAVASCRIPT] {
            levels.extend([&lang.data, &lang.ml, &lang.ml_in_process]);
        }
        for level in levels {
            assert!(
                crate::facts::get(level.fact).is_some(),
                "'{}' is not in data/facts.toml",
                level.fact
            );
            assert!(matches!(
                evidence(level),
                Evidence::Fact {
                    source: Some(_),
                    year: Some(_),
                    ..
                }
            ));
        }
    }
}
