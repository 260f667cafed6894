//! Binds run parameters (`-p key=value`, `--params-file`) to a flow's declared params, typed
//! by each param's default.

use rhai::{Dynamic, Map};

use super::api::FlowSpec;
use super::options::suggest;
use super::value::{json_to_dynamic, type_name};
use crate::error::Diagnostic;

/// Merges defaults, the params file and `-p` pairs (later wins) into the flow's params map.
pub(crate) fn bind(
    flow: &FlowSpec,
    file: Option<&serde_json::Map<String, serde_json::Value>>,
    pairs: &[(String, String)],
    require: bool,
) -> Result<Map, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut values: Map = flow
        .params
        .iter()
        .map(|p| (p.name.as_str().into(), p.default.0.clone()))
        .collect();
    for (key, json) in file.into_iter().flatten() {
        match declared(flow, key).and_then(|default| from_json(key, default, json)) {
            Ok(v) => drop(values.insert(key.as_str().into(), v)),
            Err(d) => errors.push(d),
        }
    }
    for (key, text) in pairs {
        match declared(flow, key).and_then(|default| from_text(key, default, text)) {
            Ok(v) => drop(values.insert(key.as_str().into(), v)),
            Err(d) => errors.push(d),
        }
    }
    for p in flow.params.iter().filter(|p| p.is_required && require) {
        if values.get(p.name.as_str()).is_none_or(Dynamic::is_unit) {
            errors.push(
                Diagnostic::new(format!(
                    "flow `{}` requires parameter `{}`",
                    flow.name, p.name
                ))
                .help(format!("pass it with `-p {}=VALUE`", p.name)),
            );
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

fn declared<'a>(flow: &'a FlowSpec, key: &str) -> Result<&'a Dynamic, Diagnostic> {
    if let Some(p) = flow.params.iter().find(|p| p.name == key) {
        return Ok(&p.default.0);
    }
    let names: Vec<&str> = flow.params.iter().map(|p| p.name.as_str()).collect();
    let d = Diagnostic::new(format!("flow `{}` has no parameter `{key}`", flow.name));
    Err(match (suggest(key, &names), names.is_empty()) {
        (_, true) => d.help(format!("flow `{}` declares no parameters", flow.name)),
        (Some(s), false) => d.help(format!(
            "did you mean `{s}`? declared: {}",
            names.join(", ")
        )),
        (None, false) => d.help(format!("declared: {}", names.join(", "))),
    })
}

/// A `-p` value, read as the default's type; for a required param, JSON if it parses.
fn from_text(key: &str, default: &Dynamic, text: &str) -> Result<Dynamic, Diagnostic> {
    let bad = |what: &str| {
        Diagnostic::new(format!(
            "invalid value for parameter `{key}`: expected {what}, got `{text}`"
        ))
    };
    match type_name(default) {
        "int" => text
            .trim()
            .parse::<i64>()
            .map(Dynamic::from_int)
            .map_err(|_| bad("an integer")),
        "float" => text
            .trim()
            .parse::<f64>()
            .map(Dynamic::from_float)
            .map_err(|_| bad("a number")),
        "bool" => match text.trim() {
            "true" => Ok(Dynamic::TRUE),
            "false" => Ok(Dynamic::FALSE),
            _ => Err(bad("true or false")),
        },
        "string" => Ok(text.into()),
        "()" => Ok(serde_json::from_str::<serde_json::Value>(text)
            .map_or_else(|_| text.into(), |j| json_to_dynamic(&j))),
        other => {
            let json: serde_json::Value =
                serde_json::from_str(text).map_err(|_| bad(&format!("{other} as JSON")))?;
            from_json(key, default, &json)
        }
    }
}

/// A params-file value, checked against the default's type.
fn from_json(
    key: &str,
    default: &Dynamic,
    json: &serde_json::Value,
) -> Result<Dynamic, Diagnostic> {
    let value = json_to_dynamic(json);
    let (want, got) = (type_name(default), type_name(&value));
    match (want, got) {
        (w, g) if w == g || w == "()" => Ok(value),
        ("float", "int") => Ok(Dynamic::from_float(
            value.as_int().unwrap_or_default() as f64
        )),
        _ => Err(Diagnostic::new(format!(
            "invalid value for parameter `{key}`: expected {}, got {}",
            a_kind(want),
            a_kind(got)
        ))),
    }
}

/// "an integer", "a string" ...: how messages name a parameter's type.
fn a_kind(type_name: &str) -> &'static str {
    match type_name {
        "int" => "an integer",
        "float" => "a number",
        "bool" => "true or false",
        "string" => "a string",
        "array" => "an array",
        "map" => "a map",
        "()" => "nothing",
        _ => "a value of another type",
    }
}
