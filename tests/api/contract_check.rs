//! Checks that a generated OpenAPI 3.1 document (aide + schemars) still covers
//! the contract of the hand-written OpenAPI 3.0 seed document.
//!
//! Schemas are compared after normalisation: local `$ref`s are resolved,
//! `allOf` parts are merged, and `anyOf`/`oneOf` with a `null` branch become
//! the non-null branch plus nullability, so 3.0 and 3.1 spellings compare equal.

use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Display;

/// HTTP methods that can appear as operations in an OpenAPI path item.
const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The schema that accepts anything; stands in for a missing generated schema.
static ANY_SCHEMA: Value = Value::Bool(true);

/// Returns every way `generated` fails to cover `seed` for paths selected by `include_path`.
pub fn coverage_problems(
    seed: &Value,
    generated: &Value,
    include_path: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let Some(seed_paths) = seed.get("paths").and_then(Value::as_object) else {
        return vec!["seed document has no `paths` object".to_owned()];
    };
    let mut problems = Vec::new();
    for (path, seed_item) in seed_paths.iter().filter(|(path, _)| include_path(path)) {
        let Some(generated_item) = find_path_item(generated, path) else {
            problems.push(format!("{path}: path missing from generated document"));
            continue;
        };
        let seed_item = resolve(seed, seed_item);
        for method in HTTP_METHODS {
            let Some(seed_operation) = seed_item.get(method) else {
                continue;
            };
            let label = format!("{} {path}", method.to_uppercase());
            let Some(generated_operation) = generated_item.get(method) else {
                problems.push(format!(
                    "{label}: operation missing from generated document"
                ));
                continue;
            };
            let check = OperationCheck {
                label,
                seed: Operation {
                    doc: seed,
                    path_item: seed_item,
                    definition: seed_operation,
                },
                generated: Operation {
                    doc: generated,
                    path_item: generated_item,
                    definition: generated_operation,
                },
                problems: Vec::new(),
            };
            problems.extend(check.run());
        }
    }
    problems
}

/// One operation as it appears in one of the two documents.
#[derive(Clone, Copy)]
struct Operation<'a> {
    doc: &'a Value,
    path_item: &'a Value,
    definition: &'a Value,
}

/// Which side produces the data, deciding how strictly schemas must match.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// The client sends seed-shaped data; the generated schema must accept it.
    Request,
    /// The server sends generated-shaped data; the seed schema must accept it.
    Response,
}

/// Checks one seed operation against the generated operation at the same path and method.
struct OperationCheck<'a> {
    /// `METHOD /path`, prefixed to every problem.
    label: String,
    seed: Operation<'a>,
    generated: Operation<'a>,
    problems: Vec<String>,
}

impl OperationCheck<'_> {
    fn run(mut self) -> Vec<String> {
        self.check_parameters();
        self.check_request_body();
        self.check_responses();
        self.problems
    }

    fn report(&mut self, location: &str, message: impl Display) {
        self.problems
            .push(format!("{} {location}: {message}", self.label));
    }

    /// Seed parameters must exist with compatible schemas; requiredness must not tighten.
    fn check_parameters(&mut self) {
        let seed_parameters = parameters(self.seed);
        let generated_parameters = parameters(self.generated);
        for (key, seed_parameter) in &seed_parameters {
            let (location, name) = key;
            let at = format!("parameters/{location}/{name}");
            let Some(generated_parameter) = generated_parameters.get(key) else {
                self.report(&at, "parameter missing from generated operation");
                continue;
            };
            let seed_requires = is_required(seed_parameter);
            let generated_requires = is_required(generated_parameter);
            if location == "path" && seed_requires && !generated_requires {
                self.report(&at, "required path parameter is optional in generated");
            }
            if generated_requires && !seed_requires {
                self.report(
                    &at,
                    "generated requires a parameter the seed marks optional",
                );
            }
            if let Some(seed_schema) = seed_parameter.get("schema") {
                let generated_schema = generated_parameter.get("schema").unwrap_or(&ANY_SCHEMA);
                self.compare(
                    seed_schema,
                    generated_schema,
                    &format!("{at}/schema"),
                    Direction::Request,
                );
            }
        }
        for ((location, name), generated_parameter) in &generated_parameters {
            let unknown_to_seed = !seed_parameters.contains_key(&(location.clone(), name.clone()));
            if unknown_to_seed && is_required(generated_parameter) {
                self.report(
                    &format!("parameters/{location}/{name}"),
                    "generated requires a parameter the seed does not define",
                );
            }
        }
    }

    /// A seed body must be accepted as `application/json` by the generated operation.
    fn check_request_body(&mut self) {
        let seed_body = self
            .seed
            .definition
            .get("requestBody")
            .map(|body| resolve(self.seed.doc, body));
        let generated_body = self
            .generated
            .definition
            .get("requestBody")
            .map(|body| resolve(self.generated.doc, body));
        match (seed_body, generated_body) {
            (None, Some(generated_body)) if is_required(generated_body) => self.report(
                "requestBody",
                "generated requires a request body the seed does not define",
            ),
            (Some(_), None) => self.report("requestBody", "missing from generated operation"),
            (Some(seed_body), Some(generated_body)) => {
                if is_required(generated_body) && !is_required(seed_body) {
                    self.report(
                        "requestBody",
                        "generated requires a body the seed marks optional",
                    );
                }
                let Some(generated_schema) = json_schema(generated_body) else {
                    self.report(
                        "requestBody",
                        "generated body has no application/json schema",
                    );
                    return;
                };
                if let Some(seed_schema) = json_schema(seed_body) {
                    self.compare(
                        seed_schema,
                        generated_schema,
                        "requestBody/schema",
                        Direction::Request,
                    );
                }
            }
            _ => {}
        }
    }

    /// Every seed status code must exist exactly; JSON bodies must stay compatible.
    fn check_responses(&mut self) {
        let seed_responses = self
            .seed
            .definition
            .get("responses")
            .and_then(Value::as_object);
        let generated_responses = self
            .generated
            .definition
            .get("responses")
            .and_then(Value::as_object);
        for (status, seed_response) in seed_responses.into_iter().flatten() {
            let at = format!("responses/{status}");
            let Some(generated_response) = generated_responses.and_then(|all| all.get(status))
            else {
                let available = generated_responses
                    .map(|all| all.keys().cloned().collect::<Vec<_>>().join(", "))
                    .unwrap_or_default();
                self.report(
                    &at,
                    format!("status missing from generated (generated has: {available})"),
                );
                continue;
            };
            let Some(seed_schema) = json_schema(resolve(self.seed.doc, seed_response)) else {
                continue;
            };
            match json_schema(resolve(self.generated.doc, generated_response)) {
                Some(generated_schema) => self.compare(
                    seed_schema,
                    generated_schema,
                    &format!("{at}/schema"),
                    Direction::Response,
                ),
                None => self.report(&at, "generated response has no application/json schema"),
            }
        }
    }

    fn compare(
        &mut self,
        seed_schema: &Value,
        generated_schema: &Value,
        location: &str,
        direction: Direction,
    ) {
        let mut comparison = SchemaComparison {
            seed_doc: self.seed.doc,
            generated_doc: self.generated.doc,
            direction,
            active: HashSet::new(),
            findings: Vec::new(),
        };
        comparison.compare(seed_schema, generated_schema, location, false);
        for (at, message) in comparison.findings {
            self.report(&at, message);
        }
    }
}

/// Walks a seed schema and the matching generated schema side by side.
struct SchemaComparison<'a> {
    seed_doc: &'a Value,
    generated_doc: &'a Value,
    direction: Direction,
    /// Serialised (seed, generated) schema pairs on the current walk; stops recursive schemas.
    active: HashSet<(String, String)>,
    /// (location, message) for every incompatibility found.
    findings: Vec<(String, String)>,
}

impl SchemaComparison<'_> {
    fn report(&mut self, location: &str, message: impl Display) {
        self.findings
            .push((location.to_owned(), message.to_string()));
    }

    /// Compares two schemas; `optional_in_generated` is set for properties the generated
    /// schema does not require.
    fn compare(
        &mut self,
        seed_schema: &Value,
        generated_schema: &Value,
        location: &str,
        optional_in_generated: bool,
    ) {
        let pair = (seed_schema.to_string(), generated_schema.to_string());
        if !self.active.insert(pair.clone()) {
            return;
        }
        let seed = Shape::of(self.seed_doc, seed_schema);
        let generated = Shape::of(self.generated_doc, generated_schema);
        self.check_shapes(&seed, &generated, location, optional_in_generated);
        self.active.remove(&pair);
    }

    fn check_shapes(
        &mut self,
        seed: &Shape,
        generated: &Shape,
        location: &str,
        optional_in_generated: bool,
    ) {
        for reference in &seed.dangling_refs {
            self.report(
                location,
                format!("seed $ref `{reference}` does not resolve"),
            );
        }
        for reference in &generated.dangling_refs {
            self.report(
                location,
                format!("generated $ref `{reference}` does not resolve"),
            );
        }
        if !self.check_types(seed, generated, location) {
            return;
        }
        let null_may_be_omitted = self.direction == Direction::Response && optional_in_generated;
        if seed.nullable && !generated.admits_null() && !null_may_be_omitted {
            self.report(location, "seed allows null, generated does not");
        }
        self.check_values(seed, generated, location);
        self.check_properties(seed, generated, location);
        if let Some(seed_items) = &seed.items {
            let generated_items = generated.items.as_ref().unwrap_or(&ANY_SCHEMA);
            self.compare(
                seed_items,
                generated_items,
                &format!("{location}/items"),
                false,
            );
        }
    }

    /// Reports incompatible types; returns whether deeper checks make sense.
    fn check_types(&mut self, seed: &Shape, generated: &Shape, location: &str) -> bool {
        let Some(seed_types) = &seed.types else {
            return true;
        };
        let Some(generated_types) = &generated.types else {
            self.report(
                location,
                format!(
                    "seed type is {}, generated schema declares no type",
                    describe_types(seed_types)
                ),
            );
            return false;
        };
        let compatible = match self.direction {
            Direction::Request => seed_types.iter().all(|kind| generated_types.contains(kind)),
            Direction::Response => {
                !generated_types.is_empty()
                    && generated_types.iter().all(|kind| {
                        seed_types.contains(kind)
                            || (kind == "integer" && seed_types.contains("number"))
                    })
            }
        };
        if !compatible {
            self.report(
                location,
                format!(
                    "type mismatch: seed {}, generated {}",
                    describe_types(seed_types),
                    describe_types(generated_types)
                ),
            );
        }
        compatible
    }

    /// Every seed enum value must be allowed by a generated enum.
    fn check_values(&mut self, seed: &Shape, generated: &Shape, location: &str) {
        let Some(seed_values) = seed.values.as_ref().filter(|values| !values.is_empty()) else {
            return;
        };
        match &generated.values {
            None => self.report(
                location,
                format!(
                    "seed restricts values to {}, generated has no enum",
                    describe_values(seed_values.iter())
                ),
            ),
            Some(generated_values) => {
                let missing: Vec<&Value> = seed_values
                    .iter()
                    .filter(|value| !generated_values.contains(value))
                    .collect();
                if !missing.is_empty() {
                    self.report(
                        location,
                        format!(
                            "enum values missing from generated: {}",
                            describe_values(missing.into_iter())
                        ),
                    );
                }
            }
        }
    }

    /// Seed properties must exist in generated; requiredness must fit the direction.
    fn check_properties(&mut self, seed: &Shape, generated: &Shape, location: &str) {
        for (name, seed_property) in &seed.properties {
            let at = format!("{location}/properties/{name}");
            let seed_requires = seed.required.contains(name);
            let generated_requires = generated.required.contains(name);
            let Some(generated_property) = generated.properties.get(name) else {
                let note = if seed_requires {
                    " (required in seed)"
                } else {
                    ""
                };
                self.report(&at, format!("property missing from generated schema{note}"));
                continue;
            };
            if self.direction == Direction::Response && seed_requires && !generated_requires {
                self.report(&at, "required in seed but optional in generated");
            }
            self.compare(seed_property, generated_property, &at, !generated_requires);
        }
        if self.direction == Direction::Request {
            for name in generated.required.difference(&seed.required) {
                self.report(
                    &format!("{location}/properties/{name}"),
                    "generated requires a property the seed does not require",
                );
            }
        }
    }
}

/// A schema flattened into the facts the coverage check compares.
///
/// Nested schemas (`properties`, `items`) stay raw JSON so they are normalised lazily,
/// which keeps recursive schemas finite.
#[derive(Default)]
struct Shape {
    /// Allowed non-null JSON types; `None` means any type.
    types: Option<BTreeSet<String>>,
    /// Whether the schema explicitly admits `null`.
    nullable: bool,
    /// Allowed non-null values from `enum`/`const`; `None` means unrestricted.
    values: Option<Vec<Value>>,
    properties: BTreeMap<String, Value>,
    required: BTreeSet<String>,
    items: Option<Value>,
    /// `$ref`s that point nowhere in the document.
    dangling_refs: Vec<String>,
}

impl Shape {
    /// Normalises `schema`, resolving its `$ref`s against `doc`.
    fn of(doc: &Value, schema: &Value) -> Self {
        Self::build(doc, schema, &mut Vec::new())
    }

    /// `resolving` holds the `$ref`s being expanded, to stop on reference cycles.
    /// Boolean schemas count as unconstrained.
    fn build(doc: &Value, schema: &Value, resolving: &mut Vec<String>) -> Self {
        let Some(map) = schema.as_object() else {
            return Self::default();
        };
        let mut parts = vec![Self::own(map)];
        if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
            parts.push(Self::referenced(doc, reference, resolving));
        }
        for part in map
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            parts.push(Self::build(doc, part, resolving));
        }
        for keyword in ["anyOf", "oneOf"] {
            if let Some(branches) = map.get(keyword).and_then(Value::as_array) {
                let branches = branches
                    .iter()
                    .map(|branch| Self::build(doc, branch, resolving))
                    .collect();
                parts.push(Self::union(branches));
            }
        }
        let mut shape = Self::intersection(parts);
        // OpenAPI 3.0 `nullable: true` applies to the whole schema, compositions included.
        shape.nullable |= map.get("nullable") == Some(&Value::Bool(true));
        shape
    }

    fn referenced(doc: &Value, reference: &str, resolving: &mut Vec<String>) -> Self {
        if resolving.iter().any(|active| active == reference) {
            return Self::default();
        }
        let Some(target) = lookup(doc, reference) else {
            return Self {
                dangling_refs: vec![reference.to_owned()],
                ..Self::default()
            };
        };
        resolving.push(reference.to_owned());
        let shape = Self::build(doc, target, resolving);
        resolving.pop();
        shape
    }

    /// The keywords written directly on one schema object, ignoring compositions.
    fn own(map: &Map<String, Value>) -> Self {
        let mut shape = Self::default();
        let declared_types: Vec<&str> = match map.get("type") {
            Some(Value::String(kind)) => vec![kind.as_str()],
            Some(Value::Array(kinds)) => kinds.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !declared_types.is_empty() {
            shape.nullable = declared_types.contains(&"null");
            shape.types = Some(
                declared_types
                    .into_iter()
                    .filter(|kind| *kind != "null")
                    .map(str::to_owned)
                    .collect(),
            );
        }
        let listed = map
            .get("enum")
            .and_then(Value::as_array)
            .cloned()
            .or_else(|| map.get("const").map(|value| vec![value.clone()]));
        if let Some(listed) = listed {
            shape.nullable |= listed.iter().any(Value::is_null);
            let values: Vec<Value> = listed
                .into_iter()
                .filter(|value| !value.is_null())
                .collect();
            if shape.types.is_none() {
                shape.types = Some(
                    values
                        .iter()
                        .map(|value| json_type(value).to_owned())
                        .collect(),
                );
            }
            shape.values = Some(values);
        }
        if let Some(properties) = map.get("properties").and_then(Value::as_object) {
            shape.properties = properties
                .iter()
                .map(|(name, schema)| (name.clone(), schema.clone()))
                .collect();
        }
        if let Some(required) = map.get("required").and_then(Value::as_array) {
            shape.required = required
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
        }
        shape.items = map.get("items").cloned();
        shape
    }

    /// Whether `null` validates against this shape.
    fn admits_null(&self) -> bool {
        self.nullable || (self.types.is_none() && self.values.is_none())
    }

    /// Whether this shape admits nothing but `null`, like `{"type": "null"}`.
    fn is_null_only(&self) -> bool {
        self.types.as_ref().is_some_and(BTreeSet::is_empty)
    }

    /// Merges `allOf` parts: constraints from every part apply.
    fn intersection(parts: Vec<Self>) -> Self {
        let admits_null = parts.iter().all(Self::admits_null);
        let mut merged = Self::default();
        for part in parts {
            merged.types = match (merged.types, part.types) {
                (Some(left), Some(right)) => Some(common_types(&left, &right)),
                (left, right) => left.or(right),
            };
            merged.values = match (merged.values, part.values) {
                (Some(left), Some(right)) => Some(
                    left.into_iter()
                        .filter(|value| right.contains(value))
                        .collect(),
                ),
                (left, right) => left.or(right),
            };
            merged.nullable |= part.nullable;
            merge_properties(&mut merged.properties, part.properties, "allOf");
            merged.required.extend(part.required);
            merged.items = join(merged.items.take(), part.items, "allOf");
            merged.dangling_refs.extend(part.dangling_refs);
        }
        merged.nullable &= admits_null;
        merged
    }

    /// Merges `anyOf`/`oneOf` branches: null branches only add nullability,
    /// a single remaining branch is taken as is, several are unioned.
    fn union(branches: Vec<Self>) -> Self {
        let nullable = branches.iter().any(|branch| branch.nullable);
        let mut alternatives = branches.into_iter().filter(|branch| !branch.is_null_only());
        let Some(mut merged) = alternatives.next() else {
            return Self {
                types: Some(BTreeSet::new()),
                nullable,
                ..Self::default()
            };
        };
        for branch in alternatives {
            merged.types = match (merged.types, branch.types) {
                (Some(mut left), Some(right)) => {
                    left.extend(right);
                    Some(left)
                }
                _ => None,
            };
            merged.values = match (merged.values, branch.values) {
                (Some(mut left), Some(right)) => {
                    for value in right {
                        if !left.contains(&value) {
                            left.push(value);
                        }
                    }
                    Some(left)
                }
                _ => None,
            };
            merge_properties(&mut merged.properties, branch.properties, "anyOf");
            merged
                .required
                .retain(|name| branch.required.contains(name));
            merged.items = join(merged.items.take(), branch.items, "anyOf");
            merged.dangling_refs.extend(branch.dangling_refs);
        }
        merged.nullable = nullable;
        merged
    }
}

/// Adds `source` properties to `target`, combining duplicates under `keyword`.
fn merge_properties(
    target: &mut BTreeMap<String, Value>,
    source: BTreeMap<String, Value>,
    keyword: &str,
) {
    for (name, schema) in source {
        let existing = target.remove(&name);
        if let Some(combined) = join(existing, Some(schema), keyword) {
            target.insert(name, combined);
        }
    }
}

/// Combines two optional subschemas under `keyword` (`allOf` or `anyOf`).
fn join(left: Option<Value>, right: Option<Value>, keyword: &str) -> Option<Value> {
    match (left, right) {
        (Some(left), Some(right)) => Some(json!({ keyword: [left, right] })),
        (left, right) => left.or(right),
    }
}

/// Types allowed by both sets; `integer` survives against `number`.
fn common_types(left: &BTreeSet<String>, right: &BTreeSet<String>) -> BTreeSet<String> {
    let integer_within_number = |ints: &BTreeSet<String>, numbers: &BTreeSet<String>| {
        ints.contains("integer") && numbers.contains("number")
    };
    let mut common: BTreeSet<String> = left.intersection(right).cloned().collect();
    if integer_within_number(left, right) || integer_within_number(right, left) {
        common.insert("integer".to_owned());
    }
    common
}

/// The JSON Schema type name of a value.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(number) if number.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn describe_types(types: &BTreeSet<String>) -> String {
    if types.is_empty() {
        "null".to_owned()
    } else {
        types.iter().cloned().collect::<Vec<_>>().join("|")
    }
}

fn describe_values<'v>(values: impl Iterator<Item = &'v Value>) -> String {
    let listed: Vec<String> = values.map(Value::to_string).collect();
    format!("[{}]", listed.join(", "))
}

/// The target of a local `$ref` such as `#/components/schemas/User`.
fn lookup<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    reference
        .strip_prefix('#')
        .and_then(|pointer| doc.pointer(pointer))
}

/// Follows `$ref`s from `value`; stops at the first cycle or unresolvable reference.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    let mut current = value;
    let mut seen = Vec::new();
    while let Some(reference) = current.get("$ref").and_then(Value::as_str) {
        if seen.contains(&reference) {
            break;
        }
        seen.push(reference);
        match lookup(doc, reference) {
            Some(target) => current = target,
            None => break,
        }
    }
    current
}

/// The path item for `path`, matching templates regardless of parameter names.
fn find_path_item<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    let paths = doc.get("paths")?.as_object()?;
    let wanted = template_key(path);
    let item = paths.get(path).or_else(|| {
        paths
            .iter()
            .find(|(candidate, _)| template_key(candidate) == wanted)
            .map(|(_, item)| item)
    })?;
    Some(resolve(doc, item))
}

/// `path` with every `{parameter}` segment replaced by `{}`.
fn template_key(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                "{}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Parameters of an operation keyed by (`in`, `name`); operation-level ones override
/// those inherited from the path item.
fn parameters(operation: Operation<'_>) -> BTreeMap<(String, String), &Value> {
    let mut found = BTreeMap::new();
    for source in [operation.path_item, operation.definition] {
        let listed = source.get("parameters").and_then(Value::as_array);
        for parameter in listed.into_iter().flatten() {
            let parameter = resolve(operation.doc, parameter);
            let location = parameter.get("in").and_then(Value::as_str);
            let name = parameter.get("name").and_then(Value::as_str);
            if let (Some(location), Some(name)) = (location, name) {
                found.insert((location.to_owned(), name.to_owned()), parameter);
            }
        }
    }
    found
}

fn is_required(object: &Value) -> bool {
    object.get("required") == Some(&Value::Bool(true))
}

/// The `application/json` schema of a request body or response, if any.
fn json_schema(holder: &Value) -> Option<&Value> {
    holder
        .get("content")?
        .as_object()?
        .iter()
        .find(|(media_type, _)| {
            *media_type == "application/json" || media_type.starts_with("application/json;")
        })
        .and_then(|(_, media)| media.get("schema"))
}

mod self_tests {
    use super::coverage_problems;
    use serde_json::{Value, json};

    const SEED_FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/seed-openapi.json"
    );

    fn load_seed() -> Value {
        let text = std::fs::read_to_string(SEED_FIXTURE).expect("seed fixture is readable");
        serde_json::from_str(&text).expect("seed fixture is valid JSON")
    }

    fn every_path(_: &str) -> bool {
        true
    }

    fn problems_against_seed(generated: &Value) -> Vec<String> {
        coverage_problems(&load_seed(), generated, &every_path)
    }

    fn assert_reported(problems: &[String], expected: &str) {
        assert!(
            problems.iter().any(|problem| problem.contains(expected)),
            "expected a problem containing {expected:?}, got {problems:#?}"
        );
    }

    fn slot<'d>(doc: &'d mut Value, pointer: &str) -> &'d mut Value {
        doc.pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{pointer} exists in the test document"))
    }

    fn remove_key(doc: &mut Value, pointer: &str, key: &str) {
        let removed = slot(doc, pointer)
            .as_object_mut()
            .and_then(|object| object.remove(key));
        assert!(removed.is_some(), "{pointer} has key {key}");
    }

    #[test]
    fn seed_covers_itself() {
        let seed = load_seed();
        assert_eq!(
            coverage_problems(&seed, &seed, &every_path),
            Vec::<String>::new()
        );
    }

    #[test]
    fn missing_path_is_reported_unless_filtered_out() {
        let mut generated = load_seed();
        remove_key(&mut generated, "/paths", "/api/notifications");
        assert_reported(
            &problems_against_seed(&generated),
            "/api/notifications: path missing from generated document",
        );
        let skip_notifications = |path: &str| path != "/api/notifications";
        assert!(coverage_problems(&load_seed(), &generated, &skip_notifications).is_empty());
    }

    #[test]
    fn missing_property_is_reported() {
        let mut generated = load_seed();
        remove_key(
            &mut generated,
            "/components/schemas/Post/properties",
            "views",
        );
        assert_reported(
            &problems_against_seed(&generated),
            "GET /api/posts responses/200/schema/properties/data/properties/items/items/properties/views: property missing",
        );
    }

    #[test]
    fn missing_parameter_is_reported() {
        let mut generated = load_seed();
        if let Some(parameters) =
            slot(&mut generated, "/paths/~1api~1posts/get/parameters").as_array_mut()
        {
            parameters.retain(|parameter| parameter["name"] != "limit");
        }
        assert_reported(
            &problems_against_seed(&generated),
            "GET /api/posts parameters/query/limit: parameter missing",
        );
    }

    #[test]
    fn integer_turned_string_is_reported() {
        let mut generated = load_seed();
        *slot(
            &mut generated,
            "/components/schemas/Comment/properties/youtubeTimestamp/type",
        ) = json!("string");
        assert_reported(
            &problems_against_seed(&generated),
            "properties/youtubeTimestamp: type mismatch: seed integer, generated string",
        );
    }

    /// A small 3.0 seed exercising `allOf`, `nullable`, enums and a recursive schema.
    fn small_seed() -> Value {
        json!({
            "openapi": "3.0.0",
            "paths": {
                "/items": {
                    "post": {
                        "requestBody": {
                            "required": true,
                            "content": { "application/json": { "schema": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": { "type": "string" },
                                    "size": { "type": "integer", "nullable": true }
                                }
                            } } }
                        },
                        "responses": { "201": { "description": "created" } }
                    }
                },
                "/items/{id}": {
                    "get": {
                        "parameters": [
                            { "name": "id", "in": "path", "required": true, "schema": { "type": "string" } },
                            { "name": "sort", "in": "query", "schema": { "type": "string", "enum": ["new", "top"] } }
                        ],
                        "responses": { "200": { "description": "item", "content": { "application/json": {
                            "schema": { "$ref": "#/components/schemas/Item" }
                        } } } }
                    }
                }
            },
            "components": { "schemas": {
                "Base": { "type": "object", "properties": { "id": { "type": "integer" } } },
                "Item": { "allOf": [
                    { "$ref": "#/components/schemas/Base" },
                    { "type": "object", "properties": {
                        "note": { "type": "string", "nullable": true },
                        "kind": { "type": "string", "enum": ["a", "b"] },
                        "children": { "type": "array", "items": { "$ref": "#/components/schemas/Item" } },
                        "parent": { "allOf": [{ "$ref": "#/components/schemas/Item" }], "nullable": true }
                    } }
                ] }
            } }
        })
    }

    /// The same contract written the way aide 0.15 / schemars 0.9 emit OpenAPI 3.1.
    fn small_generated() -> Value {
        json!({
            "openapi": "3.1.0",
            "paths": {
                "/items": {
                    "post": {
                        "requestBody": {
                            "required": true,
                            "content": { "application/json": { "schema": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": { "type": "string" },
                                    "size": { "type": ["integer", "null"], "format": "uint32", "minimum": 0 }
                                }
                            } } }
                        },
                        "responses": { "201": { "description": "" } }
                    }
                },
                "/items/{id}": {
                    "parameters": [
                        { "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }
                    ],
                    "get": {
                        "parameters": [
                            { "name": "sort", "in": "query", "required": false, "schema": {
                                "anyOf": [{ "$ref": "#/components/schemas/Sort" }, { "type": "null" }]
                            } }
                        ],
                        "responses": { "200": { "description": "", "content": { "application/json": {
                            "schema": { "$ref": "#/components/schemas/Item" }
                        } } } }
                    }
                }
            },
            "components": { "schemas": {
                "Sort": { "oneOf": [
                    { "type": "string", "const": "new", "description": "Newest first" },
                    { "type": "string", "const": "top", "description": "Most liked first" }
                ] },
                "Kind": { "type": "string", "enum": ["a", "b", "c"] },
                "Item": {
                    "type": "object",
                    "required": ["id", "kind", "children"],
                    "properties": {
                        "id": { "type": "integer", "format": "int64" },
                        "note": { "type": ["string", "null"] },
                        "kind": { "$ref": "#/components/schemas/Kind", "description": "Item kind" },
                        "children": { "type": "array", "items": { "$ref": "#/components/schemas/Item" } },
                        "parent": { "anyOf": [{ "$ref": "#/components/schemas/Item" }, { "type": "null" }] },
                        "extra": { "type": "boolean" }
                    }
                }
            } }
        })
    }

    #[test]
    fn aide_style_equivalents_are_accepted() {
        assert_eq!(
            coverage_problems(&small_seed(), &small_generated(), &every_path),
            Vec::<String>::new()
        );
    }

    #[test]
    fn aide_style_mismatches_are_reported() {
        let mut generated = small_generated();
        *slot(
            &mut generated,
            "/components/schemas/Item/properties/id/type",
        ) = json!("number");
        *slot(
            &mut generated,
            "/components/schemas/Item/properties/note/type",
        ) = json!("string");
        *slot(&mut generated, "/components/schemas/Item/required") =
            json!(["id", "kind", "children", "note"]);
        *slot(&mut generated, "/components/schemas/Kind") = json!({ "type": "string" });
        *slot(&mut generated, "/components/schemas/Sort") =
            json!({ "type": "string", "enum": ["new"] });
        *slot(
            &mut generated,
            "/paths/~1items/post/requestBody/content/application~1json/schema/required",
        ) = json!(["name", "size"]);
        *slot(
            &mut generated,
            "/paths/~1items/post/requestBody/content/application~1json/schema/properties/size/type",
        ) = json!("integer");
        *slot(&mut generated, "/paths/~1items/post/responses") =
            json!({ "200": { "description": "" } });
        slot(&mut generated, "/paths/~1items~1{id}/parameters/0")["required"] = json!(false);

        let mut problems = coverage_problems(&small_seed(), &generated, &every_path);
        problems.sort();
        let item = "GET /items/{id} responses/200/schema/properties";
        let mut expected = vec![
            format!("{item}/id: type mismatch: seed integer, generated number"),
            format!("{item}/note: seed allows null, generated does not"),
            format!("{item}/kind: seed restricts values to [\"a\", \"b\"], generated has no enum"),
            // `parent` is another `Item`, so its fields are checked once more.
            format!("{item}/parent/properties/id: type mismatch: seed integer, generated number"),
            format!("{item}/parent/properties/note: seed allows null, generated does not"),
            format!(
                "{item}/parent/properties/kind: seed restricts values to [\"a\", \"b\"], generated has no enum"
            ),
            "GET /items/{id} parameters/query/sort/schema: enum values missing from generated: [\"top\"]"
                .to_owned(),
            "GET /items/{id} parameters/path/id: required path parameter is optional in generated"
                .to_owned(),
            "POST /items requestBody/schema/properties/size: generated requires a property the seed does not require"
                .to_owned(),
            "POST /items requestBody/schema/properties/size: seed allows null, generated does not"
                .to_owned(),
            "POST /items responses/201: status missing from generated (generated has: 200)".to_owned(),
        ];
        expected.sort();
        assert_eq!(problems, expected);
    }
}
