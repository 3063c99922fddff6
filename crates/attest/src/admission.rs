//! Kubernetes admission: which images an `AdmissionReview` (v1) asks to run,
//! and the review response that allows or denies them. Pure functions over
//! JSON, so the webhook's parsing is tested and fuzzed without a server.

use serde_json::{json, Value};

/// The largest `AdmissionReview` accepted (the API server's own request
/// limit is 3 MiB; a review is the object plus metadata).
pub const MAX_REVIEW_BYTES: usize = 4 * 1024 * 1024;

/// What the webhook must decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdmissionRequest {
    /// The request's `uid`, echoed in the response.
    pub uid: String,
    /// The object's kind (`Pod`, `Deployment`, …).
    pub kind: String,
    /// The object's namespace and name, for messages.
    pub object: String,
    /// Every image of every container, init container and ephemeral
    /// container, in order, without repeats.
    pub images: Vec<String>,
}

/// Why a review cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("AdmissionReview: {0}")]
pub struct AdmissionError(pub String);

/// The kinds that carry a pod template, and where it is.
const POD_SPEC_PATHS: &[(&str, &str)] = &[
    ("Pod", "/spec"),
    ("Deployment", "/spec/template/spec"),
    ("ReplicaSet", "/spec/template/spec"),
    ("StatefulSet", "/spec/template/spec"),
    ("DaemonSet", "/spec/template/spec"),
    ("Job", "/spec/template/spec"),
    ("CronJob", "/spec/jobTemplate/spec/template/spec"),
    ("ReplicationController", "/spec/template/spec"),
];

/// Read an `admission.k8s.io/v1` `AdmissionReview` and list the images it
/// asks to run. A review without an object (a `DELETE`) or of a kind
/// without pods lists none. A kind with pods whose spec is not where it
/// must be is an error, never "no images".
pub fn read_review(body: &[u8]) -> Result<AdmissionRequest, AdmissionError> {
    let err = |m: &str| AdmissionError(m.to_string());
    if body.len() > MAX_REVIEW_BYTES {
        return Err(AdmissionError(format!(
            "{} bytes, over the {MAX_REVIEW_BYTES}-byte limit",
            body.len()
        )));
    }
    crate::json::check_unique_keys(body).map_err(|e| AdmissionError(e.to_string()))?;
    let review: Value =
        serde_json::from_slice(body).map_err(|e| AdmissionError(format!("not JSON: {e}")))?;
    if review["apiVersion"] != "admission.k8s.io/v1" || review["kind"] != "AdmissionReview" {
        return Err(err(
            "expected apiVersion admission.k8s.io/v1 and kind AdmissionReview",
        ));
    }
    let request = &review["request"];
    let uid = request["uid"]
        .as_str()
        .filter(|u| !u.is_empty())
        .ok_or_else(|| err("request.uid: missing"))?
        .to_string();
    let kind = request["kind"]["kind"]
        .as_str()
        .ok_or_else(|| err("request.kind.kind: missing"))?
        .to_string();
    let object = &request["object"];
    let name = format!(
        "{}/{}",
        request["namespace"]
            .as_str()
            .or_else(|| object["metadata"]["namespace"].as_str())
            .unwrap_or("-"),
        request["name"]
            .as_str()
            .or_else(|| object["metadata"]["name"].as_str())
            .or_else(|| object["metadata"]["generateName"].as_str())
            .unwrap_or("-")
    );
    let mut images = Vec::new();
    if !object.is_null() {
        if let Some((_, path)) = POD_SPEC_PATHS.iter().find(|(k, _)| *k == kind) {
            let spec = object
                .pointer(path)
                .filter(|s| s.is_object())
                .ok_or_else(|| {
                    AdmissionError(format!("request.object{path}: a {kind} without a pod spec"))
                })?;
            for list in ["initContainers", "containers", "ephemeralContainers"] {
                let Some(containers) = spec.get(list) else {
                    continue;
                };
                let containers = containers.as_array().ok_or_else(|| {
                    AdmissionError(format!("request.object{path}/{list}: not a list"))
                })?;
                for (i, c) in containers.iter().enumerate() {
                    let image = c["image"]
                        .as_str()
                        .filter(|s| !s.is_empty())
                        .ok_or_else(|| {
                            AdmissionError(format!(
                                "request.object{path}/{list}/{i}/image: missing"
                            ))
                        })?;
                    if !images.iter().any(|x| x == image) {
                        images.push(image.to_string());
                    }
                }
            }
        }
    }
    Ok(AdmissionRequest {
        uid,
        kind,
        object: name,
        images,
    })
}

/// The `AdmissionReview` response: `uid` echoed, `allowed`, and when
/// denied a 403 status whose message names the failed check.
pub fn review_response(uid: &str, allowed: bool, message: &str) -> Value {
    let mut response = json!({ "uid": uid, "allowed": allowed });
    if !allowed {
        response["status"] = json!({ "code": 403, "reason": "Forbidden", "message": message });
    } else if !message.is_empty() {
        response["warnings"] = json!([message]);
    }
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "response": response,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(kind: &str, object: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
                "kind": {"group": "apps", "version": "v1", "kind": kind},
                "namespace": "prod",
                "operation": "CREATE",
                "object": object,
            }
        }))
        .unwrap()
    }

    fn pod_spec() -> Value {
        json!({
            "initContainers": [{"name": "init", "image": "busybox:1.36"}],
            "containers": [{"name": "app", "image": "ghcr.io/o/app@sha256:aa"}, {"name": "side", "image": "busybox:1.36"}],
            "ephemeralContainers": [{"name": "debug", "image": "ghcr.io/o/debug:1"}],
        })
    }

    #[test]
    fn every_container_of_every_workload_kind_is_listed() {
        let want = [
            "busybox:1.36",
            "ghcr.io/o/app@sha256:aa",
            "ghcr.io/o/debug:1",
        ];
        let template = json!({"template": {"spec": pod_spec()}});
        for (kind, object) in [
            ("Pod", json!({"spec": pod_spec()})),
            ("Deployment", json!({"spec": template})),
            ("ReplicaSet", json!({"spec": template})),
            ("StatefulSet", json!({"spec": template})),
            ("DaemonSet", json!({"spec": template})),
            ("Job", json!({"spec": template})),
            (
                "CronJob",
                json!({"spec": {"jobTemplate": {"spec": template}}}),
            ),
        ] {
            let r = read_review(&review(kind, object)).unwrap();
            assert_eq!(r.images, want, "{kind}");
            assert_eq!(r.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
            assert_eq!(r.object, "prod/-");
        }
    }

    #[test]
    fn malformed_reviews_are_errors_not_empty_lists() {
        let bad = [
            review("Deployment", json!({"spec": {}})),
            review("Pod", json!({"spec": {"containers": {"a": 1}}})),
            review("Pod", json!({"spec": {"containers": [{"name": "x"}]}})),
            b"{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\"}".to_vec(),
            b"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"kind\":{\"kind\":\"Pod\"}}}".to_vec(),
            b"{\"apiVersion\":\"admission.k8s.io/v1\",\"apiVersion\":\"x\"}".to_vec(),
            b"not json".to_vec(),
        ];
        for body in bad {
            assert!(
                read_review(&body).is_err(),
                "{}",
                String::from_utf8_lossy(&body)
            );
        }
        // DELETE: no object, nothing to run.
        let r = read_review(&review("Pod", Value::Null)).unwrap();
        assert!(r.images.is_empty());
        // A kind without pods: nothing to check.
        let r = read_review(&review("ConfigMap", json!({"data": {}}))).unwrap();
        assert!(r.images.is_empty());
    }

    #[test]
    fn responses_echo_the_uid_and_name_the_reason() {
        let v = review_response("u1", false, "SourceRepositoryURI: expected x, got y");
        assert_eq!(v["response"]["uid"], "u1");
        assert_eq!(v["response"]["allowed"], false);
        assert_eq!(v["response"]["status"]["code"], 403);
        assert_eq!(
            v["response"]["status"]["message"],
            "SourceRepositoryURI: expected x, got y"
        );
        let v = review_response("u2", true, "");
        assert_eq!(v["response"]["allowed"], true);
        assert!(v["response"].get("status").is_none());
    }
}
