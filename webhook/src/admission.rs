//! The `admission.k8s.io/v1` AdmissionReview shapes the webhook reads and writes, and the pod
//! specs inside the objects it judges (Pods and the workloads that template them).

use serde_json::{Value, json};

/// The pod spec of an admitted object: a Pod's `spec`, a workload's `spec.template.spec`, a
/// CronJob's `spec.jobTemplate.spec.template.spec`. `None` for other kinds.
pub fn pod_spec<'a>(kind: &str, object: &'a Value) -> Option<&'a Value> {
    let spec = &object["spec"];
    let found = match kind {
        "Pod" => spec,
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController"
        | "PodTemplate" => {
            if kind == "PodTemplate" {
                &object["template"]["spec"]
            } else {
                &spec["template"]["spec"]
            }
        }
        "CronJob" => &spec["jobTemplate"]["spec"]["template"]["spec"],
        _ => return None,
    };
    found.is_object().then_some(found)
}

/// Images of every container that runs: init, regular and ephemeral, in that order, without
/// repeats. At most `max`; the rest are reported as too many.
pub fn images(spec: &Value, max: usize) -> Result<Vec<String>, crate::Error> {
    let mut out: Vec<String> = Vec::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for c in spec[list].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            match c["image"].as_str() {
                Some(i) if !i.is_empty() => {
                    if !out.iter().any(|o| o == i) {
                        out.push(i.to_string());
                    }
                }
                _ => {
                    return Err(crate::Error::Pod(format!(
                        "container {:?} in {list} has no image",
                        c["name"].as_str().unwrap_or("?")
                    )));
                }
            }
        }
    }
    if out.len() > max {
        return Err(crate::Error::Pod(format!(
            "{} images in one pod, more than {max}",
            out.len()
        )));
    }
    Ok(out)
}

/// A container image as the kubelet reads it, as an `oci://` reference: Docker Hub short
/// names get `docker.io/` (and `library/`), a missing tag is `latest`.
pub fn image_reference(image: &str) -> String {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    let first = name.split('/').next().unwrap_or("");
    let has_registry =
        name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let mut full = if has_registry {
        name.to_string()
    } else if name.contains('/') {
        format!("docker.io/{name}")
    } else {
        format!("docker.io/library/{name}")
    };
    let last = full.rsplit('/').next().unwrap_or("");
    if !last.contains(':') && digest.is_none() {
        full.push_str(":latest");
    }
    match digest {
        Some(d) => format!("oci://{full}@{d}"),
        None => format!("oci://{full}"),
    }
}

/// The response document for `uid`.
pub fn response(uid: &str, allowed: bool, message: Option<&str>, warnings: &[String]) -> Value {
    let mut r = json!({ "uid": uid, "allowed": allowed });
    if let Some(m) = message {
        r["status"] = json!({
            "code": if allowed { 200 } else { 403 },
            "reason": if allowed { "" } else { "Forbidden" },
            "message": m,
        });
    }
    if !warnings.is_empty() {
        // The API server shows at most a few short warnings; keep them short.
        r["warnings"] = json!(
            warnings
                .iter()
                .take(8)
                .map(|w| w.chars().take(256).collect::<String>())
                .collect::<Vec<_>>()
        );
    }
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "response": r,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_normalised_like_the_kubelet_does() {
        assert_eq!(
            image_reference("ghcr.io/acme/app:1.0"),
            "oci://ghcr.io/acme/app:1.0"
        );
        assert_eq!(
            image_reference("ghcr.io/acme/app"),
            "oci://ghcr.io/acme/app:latest"
        );
        assert_eq!(
            image_reference("nginx"),
            "oci://docker.io/library/nginx:latest"
        );
        assert_eq!(image_reference("acme/app:2"), "oci://docker.io/acme/app:2");
        assert_eq!(
            image_reference("127.0.0.1:5000/wasm/app:v1"),
            "oci://127.0.0.1:5000/wasm/app:v1"
        );
        assert_eq!(image_reference("localhost/a"), "oci://localhost/a:latest");
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            image_reference(&format!("r.io/a@{d}")),
            format!("oci://r.io/a@{d}")
        );
    }

    #[test]
    fn pod_specs_of_every_workload_kind() {
        let pod = json!({"spec": {"containers": [{"name": "a", "image": "x"}]}});
        assert!(pod_spec("Pod", &pod).is_some());
        let dep = json!({"spec": {"template": {"spec": {"containers": []}}}});
        for k in [
            "Deployment",
            "StatefulSet",
            "DaemonSet",
            "ReplicaSet",
            "Job",
        ] {
            assert!(pod_spec(k, &dep).is_some(), "{k}");
        }
        let cron =
            json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": []}}}}}});
        assert!(pod_spec("CronJob", &cron).is_some());
        assert!(pod_spec("ConfigMap", &pod).is_none());
        assert!(pod_spec("Pod", &json!({})).is_none());
        let spec = json!({
            "initContainers": [{"name": "i", "image": "b"}],
            "containers": [{"name": "a", "image": "a"}, {"name": "c", "image": "b"}],
        });
        assert_eq!(images(&spec, 10).unwrap(), ["b", "a"]);
        assert!(images(&spec, 1).is_err());
        assert!(
            images(&json!({"containers": [{"name": "x"}]}), 10)
                .unwrap_err()
                .to_string()
                .contains("no image")
        );
    }
}
