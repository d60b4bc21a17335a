//! The API's routes as `docs/openapi.json` declares them (each operation's path, flow tag and
//! security scheme): the declaration the CDK app builds the deployed API's resources and methods
//! from, read here so the local gateway matches requests to resources the same way.

use crate::DevError;
use serde_json::Value;

const OPENAPI_JSON: &str = include_str!("../../../docs/openapi.json");

/// How the gateway authenticates a route's caller (the operation's security scheme).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Authorization {
    /// SigV4 (service `execute-api`).
    Iam,
    /// A return bin's `x-api-key`.
    ReturnBinKey,
    /// An ID token of the fitness app's user pool.
    AppUsers,
}

impl Authorization {
    fn from_scheme(name: &str) -> Option<Self> {
        match name {
            "iam" => Some(Self::Iam),
            "returnBinKey" => Some(Self::ReturnBinKey),
            "appUsers" => Some(Self::AppUsers),
            _ => None,
        }
    }
}

/// One declared operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    /// The resource path, `{param}` segments included: API Gateway's `resource`.
    pub resource: String,
    pub flow: String,
    pub authorization: Authorization,
    /// The caller roles that may invoke an IAM route (its `x-roles`).
    pub roles: Vec<String>,
}

/// A request matched to its declared route, with the values of the route's path parameters.
#[derive(Debug, PartialEq, Eq)]
pub struct Matched<'a> {
    pub route: &'a Route,
    pub path_parameters: Vec<(String, String)>,
}

/// Every operation of the API.
#[derive(Clone, Debug)]
pub struct Routes(Vec<Route>);

impl Routes {
    /// The routes of `docs/openapi.json`.
    pub fn declared() -> Result<Self, DevError> {
        Self::parse(&serde_json::from_str(OPENAPI_JSON)?)
    }

    /// The routes of an OpenAPI document; an operation without one flow tag or one known
    /// security scheme is an error that says what to add.
    pub fn parse(doc: &Value) -> Result<Self, DevError> {
        let mut routes = Vec::new();
        let paths = doc["paths"].as_object().into_iter().flatten();
        for (path, operations) in paths {
            for (method, op) in operations.as_object().into_iter().flatten() {
                if method == "parameters" {
                    continue;
                }
                let where_ = format!("docs/openapi.json: {} {path}", method.to_uppercase());
                let flow = match op["tags"].as_array().map(Vec::as_slice) {
                    Some([Value::String(flow)]) => flow.clone(),
                    _ => return Err(DevError::Setup(format!("{where_} needs one tag, its flow"))),
                };
                let schemes: Vec<&String> = op["security"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_object)
                    .flat_map(|s| s.keys())
                    .collect();
                let authorization = match schemes.as_slice() {
                    [one] => Authorization::from_scheme(one),
                    _ => None,
                }
                .ok_or_else(|| {
                    DevError::Setup(format!(
                        "{where_} needs one security scheme of iam, returnBinKey, appUsers"
                    ))
                })?;
                let roles = op["x-roles"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r.as_str().map(str::to_owned))
                    .collect();
                routes.push(Route {
                    method: method.to_uppercase(),
                    resource: path.clone(),
                    flow,
                    authorization,
                    roles,
                });
            }
        }
        Ok(Self(routes))
    }

    pub fn all(&self) -> &[Route] {
        &self.0
    }

    /// The route serving `method` on `path`, as API Gateway picks it: a literal segment before
    /// a `{param}` one, and a parameter never matching an empty segment.
    pub fn find(&self, method: &str, path: &str) -> Option<Matched<'_>> {
        self.best(path, |r| r.method.eq_ignore_ascii_case(method))
    }

    /// Whether some operation is declared on `path`'s resource, whatever its method: API Gateway
    /// has that resource, so another method there is not the `{proxy+}` catch-all's.
    pub fn has_resource(&self, path: &str) -> bool {
        self.best(path, |_| true).is_some()
    }

    fn best(&self, path: &str, keep: impl Fn(&Route) -> bool) -> Option<Matched<'_>> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        self.0
            .iter()
            .filter(|r| keep(r))
            .filter_map(|route| {
                let template: Vec<&str> =
                    route.resource.trim_start_matches('/').split('/').collect();
                if template.len() != segments.len() {
                    return None;
                }
                let mut params = Vec::new();
                let mut literals = 0;
                for (t, s) in template.iter().zip(&segments) {
                    match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                        Some(name) if !s.is_empty() => {
                            params.push((name.to_owned(), (*s).to_owned()))
                        }
                        Some(_) => return None,
                        None if t == s => literals += 1,
                        None => return None,
                    }
                }
                Some((
                    literals,
                    Matched {
                        route,
                        path_parameters: params,
                    },
                ))
            })
            .max_by_key(|(literals, _)| *literals)
            .map(|(_, m)| m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_operation_has_a_flow_and_a_scheme() {
        let routes = Routes::declared().unwrap();
        assert!(routes.all().len() >= 17);
        let bin = routes.find("POST", "/rentals/returns").unwrap();
        assert_eq!(bin.route.authorization, Authorization::ReturnBinKey);
        assert_eq!(bin.route.flow, "rentals");
        let activity = routes.find("GET", "/v1/users/ec_u1/activity").unwrap();
        assert_eq!(activity.route.resource, "/v1/users/{user_id}/activity");
        assert_eq!(activity.route.authorization, Authorization::AppUsers);
        assert_eq!(
            activity.path_parameters,
            vec![("user_id".to_owned(), "ec_u1".to_owned())]
        );
        assert_eq!(
            routes.find("GET", "/tasks/t1").unwrap().route.authorization,
            Authorization::Iam
        );
    }

    #[test]
    fn a_request_matches_no_route_on_another_method_an_empty_segment_or_extra_segments() {
        let routes = Routes::declared().unwrap();
        assert!(routes.find("DELETE", "/tasks/t1").is_none());
        assert!(routes.find("GET", "/tasks/").is_none());
        assert!(routes.find("GET", "/tasks/t1/extra").is_none());
        assert!(routes.find("GET", "/nowhere").is_none());
    }

    #[test]
    fn a_literal_segment_wins_over_a_parameter() {
        let doc = serde_json::json!({"paths": {
            "/a/{id}": {"get": {"tags": ["f"], "security": [{"iam": []}]}},
            "/a/b": {"get": {"tags": ["f"], "security": [{"appUsers": []}]}},
        }});
        let routes = Routes::parse(&doc).unwrap();
        assert_eq!(routes.find("GET", "/a/b").unwrap().route.resource, "/a/b");
        assert_eq!(
            routes.find("GET", "/a/c").unwrap().route.resource,
            "/a/{id}"
        );
    }

    #[test]
    fn an_operation_without_a_flow_or_a_scheme_is_refused_saying_what_to_add() {
        let no_scheme = serde_json::json!({"paths": {"/a": {"get": {"tags": ["f"]}}}});
        let e = Routes::parse(&no_scheme).unwrap_err().to_string();
        assert!(e.contains("GET /a needs one security scheme"), "{e}");
        let no_flow = serde_json::json!({"paths": {"/a": {"get": {"security": [{"iam": []}]}}}});
        let e = Routes::parse(&no_flow).unwrap_err().to_string();
        assert!(e.contains("GET /a needs one tag, its flow"), "{e}");
    }
}
