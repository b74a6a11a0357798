//! Every rendered overlay against the code: the workloads are exactly the five the services
//! are; each container's variables are options its binary has (parsed by the binary's own
//! command line, so a misspelled name or a bad value fails here, not in the cluster); ports,
//! probes, Services and the URLs between services agree; the services talk mTLS, each with its
//! own role's certificate naming the identity `tanksim_server::tls::Role` checks; KEDA reads the
//! stream and group of `names.rs`; images are this project's, tagged by the release workflow;
//! every pod is hardened.

use std::collections::BTreeSet;

use clap::{CommandFactory, Parser};
use serde_json::Value;
use tanksim_broker::names::{TASKS_STREAM, WORKERS_GROUP};
use tanksim_e2e::manifests::{self, Rendered};
use tanksim_server::tls::Role;

use crate::env::{self, Var};

/// The overlays a cluster gets.
const CLUSTER_OVERLAYS: &[&str] = &["dev", "prod"];
/// Exactly these workloads, and no others.
const WORKLOADS: &[(&str, &str)] = &[
    ("Deployment", "dispatcher"),
    ("Deployment", "gateway"),
    ("Deployment", "worker"),
    ("StatefulSet", "redis"),
    ("StatefulSet", "results"),
];

/// A tanksim service: its workload, its command line and the option it listens on.
struct Service {
    name: &'static str,
    command: clap::Command,
    listen_env: &'static str,
}

fn services() -> Vec<Service> {
    vec![
        Service {
            name: "gateway",
            command: tanksim_gateway::GatewayArgs::command(),
            listen_env: "TANKSIM_GATEWAY_LISTEN",
        },
        Service {
            name: "dispatcher",
            command: tanksim_dispatcher::DispatcherArgs::command(),
            listen_env: "TANKSIM_DISPATCHER_LISTEN",
        },
        Service {
            name: "results",
            command: tanksim_results::ResultsArgs::command(),
            listen_env: "TANKSIM_RESULTS_LISTEN",
        },
        Service {
            name: "worker",
            command: tanksim_worker::WorkerArgs::command(),
            listen_env: "TANKSIM_WORKER_LISTEN",
        },
    ]
}

/// Variables that name another service, and the workload they must reach.
const PEERS: &[(&str, &str)] = &[
    ("TANKSIM_DISPATCHER_URL", "dispatcher"),
    ("TANKSIM_RESULTS_URL", "results"),
    ("REDIS_ADDRESS", "redis"),
];

/// The peer URLs between tanksim's services (the mesh), and the service each one reaches.
const MESH_URLS: &[(&str, &str)] =
    &[("TANKSIM_DISPATCHER_URL", "dispatcher"), ("TANKSIM_RESULTS_URL", "results")];

/// The mesh's certificate, key and CA files, as the services read them.
const MESH_FILES: &[(&str, &str)] =
    &[("TANKSIM_MTLS_CERT", "tls.crt"), ("TANKSIM_MTLS_KEY", "tls.key"), ("TANKSIM_MTLS_CA", "ca.crt")];

fn overlays() -> Vec<Rendered> {
    CLUSTER_OVERLAYS.iter().chain(["smoke"].iter()).map(|o| manifests::render(o)).collect()
}

fn container<'a>(rendered: &'a Rendered, name: &str) -> &'a Value {
    let (_, _, pod) = rendered.workloads().into_iter().find(|(_, n, _)| *n == name).unwrap();
    let containers = pod["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1, "{}: {name} runs one container", rendered.overlay);
    &containers[0]
}

fn var<'a>(vars: &'a [Var], name: &str) -> Option<&'a str> {
    vars.iter().find(|v| v.name == name).map(|v| v.value.as_str())
}

/// The host of a URL such as `https://dispatcher:50052`.
fn host_of(url: &str) -> &str {
    url.split("://").last().unwrap().split([':', '/']).next().unwrap()
}

/// Whether `service` serves the mesh: a peer URL reaches it (MESH_URLS), so with mTLS its gRPC
/// port speaks TLS only.
fn serves_the_mesh(service: &str) -> bool {
    MESH_URLS.iter().any(|(_, peer)| *peer == service)
}

fn port_of(address: &str) -> u16 {
    let port = address.rsplit(':').next().unwrap();
    port.trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap_or_else(|_| panic!("no port in {address:?}"))
}

fn container_port(container: &Value, name: &str) -> Option<u16> {
    container["ports"].as_array()?.iter().find(|p| p["name"] == name)?["containerPort"]
        .as_u64()
        .map(|p| p as u16)
}

/// Redis's port: `--port` in its arguments, else `port` in its redis.conf.
fn redis_port(rendered: &Rendered) -> u16 {
    let c = container(rendered, "redis");
    let args: Vec<&str> = c["command"]
        .as_array()
        .into_iter()
        .chain(c["args"].as_array())
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if let Some(i) = args.iter().position(|a| *a == "--port") {
        return args[i + 1].parse().unwrap();
    }
    let conf = rendered.of_kind("ConfigMap").find_map(|cm| cm["data"]["redis.conf"].as_str()).unwrap();
    conf.lines().find_map(|l| l.strip_prefix("port ")).unwrap().trim().parse().unwrap()
}

#[test]
fn the_workloads_are_exactly_the_five_services() {
    for rendered in overlays() {
        let mut found: Vec<(String, String)> =
            rendered.workloads().iter().map(|(k, n, _)| ((*k).to_owned(), (*n).to_owned())).collect();
        found.sort();
        let want: Vec<(String, String)> = WORKLOADS.iter().map(|(k, n)| ((*k).into(), (*n).into())).collect();
        assert_eq!(found, want, "{}", rendered.overlay);
        for object in &rendered.objects {
            if let Some(ns) = object["metadata"]["namespace"].as_str() {
                assert_eq!(
                    ns, "tanksim",
                    "{}: {} {}",
                    rendered.overlay, object["kind"], object["metadata"]["name"]
                );
            }
        }
    }
}

#[test]
fn every_variable_is_an_option_of_the_binary_and_parses() {
    for rendered in overlays() {
        for service in services() {
            let vars = env::container_env(&rendered, container(&rendered, service.name));
            let mut argv = vec![format!("tanksim-{}", service.name)];
            let referred: BTreeSet<&str> =
                vars.iter().flat_map(|v| v.refers_to.iter().map(String::as_str)).collect();
            for v in &vars {
                for r in &v.refers_to {
                    assert!(
                        vars.iter().any(|d| &d.name == r),
                        "{}: {}: {} refers to $({r}), which is not defined before it",
                        rendered.overlay,
                        service.name,
                        v.name
                    );
                }
                let option = service
                    .command
                    .get_arguments()
                    .find(|a| a.get_env().is_some_and(|e| e == v.name.as_str()));
                match option {
                    Some(arg) => {
                        argv.push(format!("--{}", arg.get_long().unwrap()));
                        argv.push(v.value.clone());
                    }
                    // Read by the OpenTelemetry SDK itself, or only a part of another variable.
                    None if v.name.starts_with("OTEL_") || referred.contains(v.name.as_str()) => {}
                    None => panic!(
                        "{}: {}: {} is not an option of tanksim-{} (`--help` lists them)",
                        rendered.overlay, service.name, v.name, service.name
                    ),
                }
            }
            let parsed = match service.name {
                "gateway" => tanksim_gateway::GatewayArgs::try_parse_from(&argv).map(drop),
                "dispatcher" => tanksim_dispatcher::DispatcherArgs::try_parse_from(&argv).map(drop),
                "results" => tanksim_results::ResultsArgs::try_parse_from(&argv).map(drop),
                _ => tanksim_worker::WorkerArgs::try_parse_from(&argv).map(|a| {
                    a.validate().unwrap_or_else(|e| panic!("{}: worker settings: {e}", rendered.overlay));
                }),
            };
            if let Err(e) = parsed {
                panic!(
                    "{}: tanksim-{} rejects its manifest settings {argv:?}:\n{e}",
                    rendered.overlay, service.name
                );
            }
            for must in [service.listen_env, "TANKSIM_ADMIN_LISTEN", "TANKSIM_LOG_FORMAT"] {
                assert!(var(&vars, must).is_some(), "{}: {}: {must} unset", rendered.overlay, service.name);
            }
            // The admin port never listens on every address: the pod's own in a cluster (where
            // Prometheus scrapes it), loopback under podman.
            let admin: std::net::SocketAddr = var(&vars, "TANKSIM_ADMIN_LISTEN").unwrap().parse().unwrap();
            let expected = if rendered.overlay == "smoke" { "127.0.0.1" } else { env::POD_IP };
            assert_eq!(
                admin.ip().to_string(),
                expected,
                "{}: {}: admin port",
                rendered.overlay,
                service.name
            );
        }
    }
}

#[test]
fn ports_probes_services_and_urls_agree() {
    for rendered in overlays() {
        let cluster = rendered.overlay != "smoke";
        let mut bound = BTreeSet::new();
        let listen = |name: &str| -> u16 {
            if name == "redis" {
                return redis_port(&rendered);
            }
            let service = services().into_iter().find(|s| s.name == name).unwrap();
            let vars = env::container_env(&rendered, container(&rendered, name));
            port_of(var(&vars, service.listen_env).unwrap())
        };
        for service in services() {
            let c = container(&rendered, service.name);
            let vars = env::container_env(&rendered, c);
            let grpc = listen(service.name);
            let what = format!("{}: {}", rendered.overlay, service.name);
            assert_eq!(container_port(c, "grpc"), Some(grpc), "{what}: port `grpc` is the listen port");
            let admin = port_of(var(&vars, "TANKSIM_ADMIN_LISTEN").unwrap());
            assert_eq!(container_port(c, "admin"), Some(admin), "{what}: port `admin` (the PodMonitor's)");
            // A service the mesh calls serves TLS only once mTLS is configured, and the kubelet
            // cannot speak it: its probes go to the plaintext probe port (TANKSIM_PROBE_LISTEN),
            // which answers the same health service. Everyone else is probed on its gRPC port.
            let probed = if serves_the_mesh(service.name) && var(&vars, "TANKSIM_MTLS_CERT").is_some() {
                let probe_listen = var(&vars, "TANKSIM_PROBE_LISTEN");
                let probe = port_of(
                    probe_listen.unwrap_or_else(|| panic!("{what}: mTLS, but no TANKSIM_PROBE_LISTEN")),
                );
                assert!(probe != grpc && probe != admin, "{what}: the probe port is a port of its own");
                assert_eq!(
                    container_port(c, "probe"),
                    Some(probe),
                    "{what}: port `probe` is TANKSIM_PROBE_LISTEN's"
                );
                probe
            } else {
                assert!(container_port(c, "probe").is_none(), "{what}: a probe port only beside a TLS port");
                grpc
            };
            if !cluster {
                // One network for every pod of the smoke run (the host's): each port bound once.
                let own: BTreeSet<u16> = [grpc, admin, probed].into_iter().collect();
                for port in own {
                    assert!(bound.insert(port), "{what}: port {port} is bound by another service too");
                }
            }
            let ready = &c["readinessProbe"]["grpc"];
            let live = &c["livenessProbe"]["grpc"];
            assert_eq!(ready["port"].as_u64(), Some(u64::from(probed)), "{what}: readiness probe port");
            assert!(ready.get("service").is_none(), "{what}: readiness is the whole server's health");
            assert_eq!(live["port"].as_u64(), Some(u64::from(probed)), "{what}: liveness probe port");
            assert_eq!(live["service"], tanksim_server::health::LIVENESS, "{what}: liveness service");
            for (env_name, peer) in PEERS {
                let Some(url) = var(&vars, env_name) else { continue };
                let host = host_of(url);
                let port = port_of(url.trim_end_matches('/'));
                if cluster {
                    let svc = rendered.get("Service", host);
                    assert_eq!(
                        svc["spec"]["selector"]["app.kubernetes.io/name"], *peer,
                        "{what}: {env_name} {url}"
                    );
                    let sp = svc["spec"]["ports"].as_array().unwrap().iter().find(|p| p["port"] == port);
                    let sp = sp.unwrap_or_else(|| {
                        panic!("{what}: {env_name} {url}: Service {host} has no port {port}")
                    });
                    let target = sp["targetPort"].as_str().unwrap();
                    assert_eq!(
                        container_port(container(&rendered, peer), target),
                        Some(listen(peer)),
                        "{what}: {env_name} {url} reaches {peer}'s port `{target}`"
                    );
                } else {
                    assert_eq!(host, "127.0.0.1", "{what}: the smoke run is on loopback");
                    assert_eq!(port, listen(peer), "{what}: {env_name} {url} is {peer}'s port");
                }
            }
        }
    }
}

#[test]
fn the_services_talk_mtls_each_with_its_roles_certificate() {
    for rendered in overlays() {
        let cluster = rendered.overlay != "smoke";
        if !cluster {
            // podman runs no cert-manager: scripts/smoke.sh makes the certificates instead.
            let issued = rendered
                .objects
                .iter()
                .any(|o| o["apiVersion"].as_str().is_some_and(|api| api.starts_with("cert-manager.io/")));
            assert!(!issued, "{}: no cert-manager objects under podman", rendered.overlay);
        }
        for role in Role::ALL {
            let name = role.name();
            let what = format!("{}: {name}", rendered.overlay);
            let secret = format!("mesh-{name}");
            let c = container(&rendered, name);
            let vars = env::container_env(&rendered, c);
            // The three files, side by side in the directory where the role's Secret is mounted
            // (a whole directory: the kubelet updates a renewed Secret there, never in a subPath).
            let mut dirs = BTreeSet::new();
            for (env_name, file) in MESH_FILES {
                let path = var(&vars, env_name).unwrap_or_else(|| panic!("{what}: {env_name} unset"));
                let (dir, found) = path.rsplit_once('/').unwrap();
                assert_eq!(found, *file, "{what}: {env_name} is the Secret's key {file}");
                dirs.insert(dir.to_owned());
            }
            assert_eq!(dirs.len(), 1, "{what}: certificate, key and CA in one directory: {dirs:?}");
            let dir = dirs.into_iter().next().unwrap();
            let mounts = c["volumeMounts"].as_array().unwrap();
            let mount = mounts.iter().find(|m| m["mountPath"] == dir.as_str());
            let mount = mount.unwrap_or_else(|| panic!("{what}: nothing mounted at {dir}"));
            assert_eq!(mount["readOnly"], true, "{what}: {dir} read-only");
            assert!(mount.get("subPath").is_none(), "{what}: {dir} mounted whole, so renewals reach it");
            let pod = rendered.workloads().into_iter().find(|(_, n, _)| *n == name).unwrap().2;
            let volumes = pod["volumes"].as_array().unwrap();
            let volume = volumes.iter().find(|v| v["name"] == mount["name"]).unwrap();
            assert_eq!(volume["secret"]["secretName"], secret.as_str(), "{what}: its own role's Secret");
            assert!(volume["secret"].get("items").is_none(), "{what}: each key of the Secret is a file");

            // Its calls to peers: https (with mTLS configured an http:// URL exits 64), to a host
            // the peer's certificate names.
            let mut calls = false;
            for (env_name, peer) in MESH_URLS {
                let Some(url) = var(&vars, env_name) else { continue };
                calls = true;
                assert!(url.starts_with("https://"), "{what}: {env_name} {url} is https://");
                if cluster {
                    let names = dns_names(rendered.get("Certificate", &format!("mesh-{peer}")));
                    let host = host_of(url);
                    assert!(names.contains(&host), "{what}: {env_name} {url}: mesh-{peer} names no {host}");
                }
            }
            if !cluster {
                continue;
            }
            // Its certificate: the role's identity name, and no more power than it uses: `server
            // auth` only where peers call it, `client auth` only where it calls them.
            let certificate = rendered.get("Certificate", &secret);
            let spec = &certificate["spec"];
            assert_eq!(spec["secretName"], secret.as_str(), "{what}: Certificate {secret} writes its Secret");
            let identity = role.identity();
            assert!(
                dns_names(certificate).contains(&identity.as_str()),
                "{what}: Certificate {secret} names the identity {identity}"
            );
            let usages: Vec<&str> =
                spec["usages"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
            assert_eq!(
                usages.contains(&"server auth"),
                serves_the_mesh(name),
                "{what}: server auth: {usages:?}"
            );
            assert_eq!(usages.contains(&"client auth"), calls, "{what}: client auth: {usages:?}");
            // Signed by the mesh's CA: an Issuer of kind `ca` whose Secret a CA Certificate writes.
            assert_eq!(spec["issuerRef"]["kind"], "Issuer", "{what}: a namespaced Issuer");
            let issuer = rendered.get("Issuer", spec["issuerRef"]["name"].as_str().unwrap());
            let ca_secret = issuer["spec"]["ca"]["secretName"].as_str();
            let ca_secret = ca_secret.unwrap_or_else(|| panic!("{what}: its Issuer is no CA Issuer"));
            let ca = rendered.of_kind("Certificate").find(|cert| cert["spec"]["secretName"] == ca_secret);
            let ca = ca.unwrap_or_else(|| panic!("{what}: no Certificate makes the CA Secret {ca_secret}"));
            assert_eq!(ca["spec"]["isCA"], true, "{what}: {ca_secret} is a CA");
        }
    }
}

/// A cert-manager Certificate's `dnsNames`.
fn dns_names(certificate: &Value) -> Vec<&str> {
    certificate["spec"]["dnsNames"].as_array().into_iter().flatten().filter_map(Value::as_str).collect()
}

#[test]
fn pods_are_hardened_sized_and_probed() {
    for rendered in overlays() {
        for (kind, name, pod) in rendered.workloads() {
            let what = format!("{}: {kind} {name}", rendered.overlay);
            let sc = &pod["securityContext"];
            assert_eq!(sc["runAsNonRoot"], true, "{what}");
            assert!(sc["runAsUser"].as_u64().is_some_and(|u| u > 0), "{what}: a numeric non-root user");
            assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{what}");
            assert_eq!(pod["automountServiceAccountToken"], false, "{what}: no service-account token");
            let c = &pod["containers"][0];
            let csc = &c["securityContext"];
            assert_eq!(csc["readOnlyRootFilesystem"], true, "{what}");
            assert_eq!(csc["allowPrivilegeEscalation"], false, "{what}");
            assert_eq!(csc["capabilities"]["drop"], serde_json::json!(["ALL"]), "{what}");
            for (field, resource) in [("requests", "cpu"), ("requests", "memory"), ("limits", "memory")] {
                assert!(c["resources"][field][resource].is_string(), "{what}: resources.{field}.{resource}");
            }
            assert!(c["readinessProbe"].is_object() && c["livenessProbe"].is_object(), "{what}: probes");
        }
        // Every service drains within its TANKSIM_SHUTDOWN_GRACE_MS (the worker: its chunk in
        // flight) and then flushes telemetry: the kubelet must wait that long before SIGKILL.
        for service in ["gateway", "dispatcher", "results", "worker"] {
            let pod = rendered.workloads().into_iter().find(|(_, n, _)| *n == service).unwrap().2;
            let vars = env::container_env(&rendered, &pod["containers"][0]);
            let grace_ms: u64 = var(&vars, "TANKSIM_SHUTDOWN_GRACE_MS")
                .map_or(u64::try_from(tanksim_server::DEFAULT_SHUTDOWN_GRACE.as_millis()).unwrap(), |v| {
                    v.parse().unwrap()
                });
            let kill_after = pod["terminationGracePeriodSeconds"].as_u64().unwrap_or(30) * 1000;
            assert!(
                grace_ms + 10_000 <= kill_after,
                "{}: {service}'s drain ({grace_ms} ms) and exit fit in terminationGracePeriodSeconds",
                rendered.overlay
            );
        }
        let worker = rendered.workloads().into_iter().find(|(_, n, _)| *n == "worker").unwrap().2;
        assert!(worker["topologySpreadConstraints"].is_array(), "{}: workers spread", rendered.overlay);
    }
}

#[test]
fn images_are_the_projects_and_tagged_by_the_release() {
    for overlay in CLUSTER_OVERLAYS {
        let rendered = manifests::render(overlay);
        let kustomization: Value = serde_norway::from_str(
            &std::fs::read_to_string(
                manifests::repo().join("deploy/overlays").join(overlay).join("kustomization.yaml"),
            )
            .unwrap(),
        )
        .unwrap();
        for (_, name, pod) in rendered.workloads() {
            let image = pod["containers"][0]["image"].as_str().unwrap();
            if name == "redis" {
                let tag = image.rsplit(':').next().unwrap();
                assert!(
                    tag.starts_with('7') && tag != "latest",
                    "{overlay}: redis pinned to a 7.x release: {image}"
                );
                continue;
            }
            let (repository, tag) = image.rsplit_once(':').unwrap();
            assert_eq!(repository, format!("ghcr.io/tanksim/tanksim-{name}"), "{overlay}");
            let listed = kustomization["images"].as_array().unwrap().iter().find(|i| i["name"] == repository);
            let listed = listed.unwrap_or_else(|| panic!("{overlay}: {repository} is not in `images:`"));
            assert_eq!(
                listed["newTag"], tag,
                "{overlay}: {name}'s tag is the one scripts/set-image-tag.sh rewrites"
            );
            assert!(
                tag.strip_prefix("sha-")
                    .is_some_and(|h| h.len() == 12 && h.bytes().all(|b| b.is_ascii_hexdigit())),
                "{overlay}: {image}: release tags are sha-<12 hex>"
            );
        }
    }
}

#[test]
fn keda_rollouts_ingress_and_secrets_point_at_the_right_things() {
    for overlay in CLUSTER_OVERLAYS {
        let r = manifests::render(overlay);
        let scaled = r.get("ScaledObject", "worker");
        assert_eq!(scaled["spec"]["scaleTargetRef"]["name"], "worker", "{overlay}");
        assert_eq!(scaled["spec"]["minReplicaCount"], 0, "{overlay}: workers scale to zero");
        let triggers = scaled["spec"]["triggers"].as_array().unwrap();
        let metadata =
            |key: &str| triggers.iter().find(|t| t["metadata"].get(key).is_some()).map(|t| &t["metadata"]);
        for key in ["lagCount", "pendingEntriesCount"] {
            let m = metadata(key).unwrap_or_else(|| panic!("{overlay}: no redis-streams trigger on {key}"));
            assert_eq!(m["stream"], TASKS_STREAM, "{overlay}: {key}");
            assert_eq!(m["consumerGroup"], WORKERS_GROUP, "{overlay}: {key}");
            assert!(m["address"].as_str().unwrap().starts_with("redis.tanksim.svc"), "{overlay}: {key}");
        }
        for t in triggers {
            assert_eq!(t["type"], "redis-streams", "{overlay}");
            // KEDA connects as Redis user `keda`, user and password from that user's Secret.
            let auth = r.get("TriggerAuthentication", t["authenticationRef"]["name"].as_str().unwrap());
            let mut from: Vec<(&str, &str, &str)> = auth["spec"]["secretTargetRef"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["parameter"].as_str().unwrap(),
                        f["name"].as_str().unwrap(),
                        f["key"].as_str().unwrap(),
                    )
                })
                .collect();
            from.sort_unstable();
            assert_eq!(
                from,
                [("password", "redis-user-keda", "password"), ("username", "redis-user-keda", "username")],
                "{overlay}"
            );
        }
        // Every Redis user's Secret is sealed in the overlay, none is a plain Secret.
        for user in redis_users() {
            let name = format!("redis-user-{user}");
            let sealed = r.get("SealedSecret", &name);
            for key in ["username", "password"] {
                assert!(sealed["spec"]["encryptedData"][key].is_string(), "{overlay}: {name}: {key} sealed");
            }
            assert_eq!(sealed["spec"]["template"]["type"], "kubernetes.io/basic-auth", "{overlay}: {name}");
            assert!(r.find("Secret", &name).is_none(), "{overlay}: no plain Secret in git");
        }
        assert!(
            r.get("Deployment", "worker")["spec"].get("replicas").is_none(),
            "{overlay}: KEDA owns worker replicas"
        );
        assert!(
            r.get("Deployment", "gateway")["spec"].get("replicas").is_none(),
            "{overlay}: the Rollout owns them"
        );
        let rollout = r.get("Rollout", "gateway");
        assert_eq!(rollout["spec"]["workloadRef"]["name"], "gateway", "{overlay}");
        let analysis = &rollout["spec"]["strategy"]["canary"]["analysis"]["templates"][0]["templateName"];
        r.get("AnalysisTemplate", analysis.as_str().unwrap());
        let route = &r.get("IngressRoute", "gateway")["spec"]["routes"][0]["services"][0];
        assert_eq!(
            (route["name"].as_str(), route["scheme"].as_str()),
            (Some("gateway"), Some("h2c")),
            "{overlay}"
        );
        let gateway_service = r.get("Service", "gateway");
        assert!(
            gateway_service["spec"]["ports"].as_array().unwrap().iter().any(|p| p["name"] == route["port"])
        );
    }
}

#[test]
fn the_gateway_dispatcher_and_results_share_one_set_of_limits() {
    use clap::Args;
    // Every limit option, by its variable (so a new limit is checked without editing this).
    let command = tanksim_server::LimitsArgs::augment_args(clap::Command::new("limits"));
    let names: Vec<String> = command
        .get_arguments()
        .filter_map(|a| a.get_env())
        .map(|e| e.to_string_lossy().into_owned())
        .collect();
    assert!(names.len() >= 5 && names.iter().all(|n| n.starts_with("TANKSIM_MAX_")), "{names:?}");
    for rendered in overlays() {
        for name in &names {
            let values: Vec<(&str, Option<String>)> = ["gateway", "dispatcher", "results"]
                .into_iter()
                .map(|service| {
                    let vars = env::container_env(&rendered, container(&rendered, service));
                    (service, var(&vars, name).map(str::to_owned))
                })
                .collect();
            assert!(
                values.iter().all(|(_, v)| v.is_some() && *v == values[0].1),
                "{}: {name} differs between the services (one `limits` ConfigMap for all): {values:?}",
                rendered.overlay
            );
        }
    }
}

#[test]
fn the_gateway_and_the_dispatcher_share_one_set_of_quotas() {
    use clap::Args;
    // Every quota option, by its variable (a new quota is checked without editing this).
    let command = tanksim_server::QuotasArgs::augment_args(clap::Command::new("quotas"));
    let names: Vec<String> = command
        .get_arguments()
        .filter_map(|a| a.get_env())
        .map(|e| e.to_string_lossy().into_owned())
        .filter(|n| n.starts_with("TANKSIM_QUOTA_"))
        .collect();
    assert!(names.len() >= 5, "{names:?}");
    for rendered in overlays() {
        for name in &names {
            let values: Vec<(&str, Option<String>)> = ["gateway", "dispatcher"]
                .into_iter()
                .map(|service| {
                    let vars = env::container_env(&rendered, container(&rendered, service));
                    (service, var(&vars, name).map(str::to_owned))
                })
                .collect();
            assert!(
                values.iter().all(|(_, v)| v.is_some() && *v == values[0].1),
                "{}: {name} differs between the gateway and the dispatcher (one `quotas` ConfigMap for both): {values:?}",
                rendered.overlay
            );
        }
    }
}

#[test]
fn the_gateway_requires_auth_with_keys_in_redis_and_a_sealed_bootstrap_file() {
    for rendered in overlays() {
        let what = format!("{}: gateway", rendered.overlay);
        let c = container(&rendered, "gateway");
        let vars = env::container_env(&rendered, c);
        assert_eq!(var(&vars, "TANKSIM_AUTH"), Some("required"), "{what}: auth is never off in a deployment");
        // Keys made with `tanksim keys create` are found where the CLI put them: the one Redis,
        // read as the gateway's own user.
        let dispatcher = env::container_env(&rendered, container(&rendered, "dispatcher"));
        let keys_url = var(&vars, "TANKSIM_API_KEYS_REDIS_URL");
        let host = |url: Option<&str>| url.and_then(|u| u.rsplit_once('@')).map(|(_, host)| host.to_owned());
        assert!(
            keys_url.is_some() && host(keys_url) == host(var(&dispatcher, "TANKSIM_REDIS_URL")),
            "{what}: API keys in the dispatcher's Redis ({keys_url:?})"
        );
        assert_eq!(
            redis_user_secret(c, "TANKSIM_API_KEYS_REDIS_URL"),
            "redis-user-gateway",
            "{what}: as Redis user gateway"
        );
        let file = var(&vars, "TANKSIM_API_KEYS_FILE");
        if rendered.overlay == "smoke" {
            assert!(file.is_none(), "{what}: the smoke run has no Secret to mount: Redis keys only");
            continue;
        }
        // The bootstrap keys file is the sealed Secret `api-keys`, mounted read-only.
        let file = file.unwrap_or_else(|| panic!("{what}: TANKSIM_API_KEYS_FILE unset"));
        let (dir, key) = file.rsplit_once('/').unwrap();
        let mounts = c["volumeMounts"].as_array().unwrap();
        let mount = mounts.iter().find(|m| m["mountPath"] == dir);
        let mount = mount.unwrap_or_else(|| panic!("{what}: nothing mounted at {dir}"));
        assert_eq!(mount["readOnly"], true, "{what}: {dir} read-only");
        let pod = rendered.workloads().into_iter().find(|(_, n, _)| *n == "gateway").unwrap().2;
        let volume = pod["volumes"].as_array().unwrap().iter().find(|v| v["name"] == mount["name"]).unwrap();
        assert_eq!(volume["secret"]["secretName"], "api-keys", "{what}: {dir} is the Secret api-keys");
        assert!(volume["secret"].get("items").is_none(), "{what}: each key of the Secret is a file");
        let sealed = rendered.get("SealedSecret", "api-keys");
        assert!(sealed["spec"]["encryptedData"][key].is_string(), "{what}: {key} is sealed in the overlay");
    }
}

/// The Redis users of deploy/base/redis-users.acl but `default`.
fn redis_users() -> Vec<String> {
    let rules = std::fs::read_to_string(manifests::repo().join("deploy/base/redis-users.acl")).unwrap();
    rules
        .lines()
        .filter_map(|l| l.strip_prefix("user "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "default")
        .map(str::to_owned)
        .collect()
}

/// The Secret whose `username` and `password` make up the Redis URL in variable `url_var` of
/// `container` (`redis://$(REDIS_USERNAME):$(REDIS_PASSWORD)@$(REDIS_ADDRESS)`).
fn redis_user_secret(container: &Value, url_var: &str) -> String {
    let env = container["env"].as_array().unwrap();
    let raw = |name: &str| env.iter().find(|e| e["name"] == name);
    let url = raw(url_var).unwrap_or_else(|| panic!("{url_var} unset"))["value"].as_str().unwrap();
    assert_eq!(url, "redis://$(REDIS_USERNAME):$(REDIS_PASSWORD)@$(REDIS_ADDRESS)", "{url_var}");
    let secret = |name: &str, key: &str| {
        let from = &raw(name).unwrap_or_else(|| panic!("{name} unset"))["valueFrom"]["secretKeyRef"];
        assert_eq!(from["key"], key, "{name}");
        from["name"].as_str().unwrap().to_owned()
    };
    let (user, password) = (secret("REDIS_USERNAME", "username"), secret("REDIS_PASSWORD", "password"));
    assert_eq!(user, password, "{url_var}: user and password of one Secret");
    user
}

#[test]
fn redis_loads_the_users_of_the_acl_rules_and_each_client_is_its_own_user() {
    let rules = std::fs::read_to_string(manifests::repo().join("deploy/base/redis-users.acl")).unwrap();
    let script = std::fs::read_to_string(manifests::repo().join("deploy/base/redis-users.sh")).unwrap();
    for rendered in overlays() {
        let what = |part: &str| format!("{}: {part}", rendered.overlay);
        let config = rendered.of_kind("ConfigMap").find(|cm| cm["data"]["redis.conf"].is_string()).unwrap();
        // The rules and the script the tests run (crates/broker/tests/acl.rs) are what Redis gets.
        assert_eq!(config["data"]["redis-users.acl"].as_str(), Some(rules.as_str()), "{}", what("rules"));
        assert_eq!(config["data"]["redis-users.sh"].as_str(), Some(script.as_str()), "{}", what("script"));
        let conf = config["data"]["redis.conf"].as_str().unwrap();
        let acl_file = conf.lines().find_map(|l| l.strip_prefix("aclfile ")).expect("redis.conf: aclfile");
        assert!(!conf.contains("requirepass"), "{}", what("no shared password"));
        let pod = rendered.workloads().into_iter().find(|(_, n, _)| *n == "redis").unwrap().2;
        let redis = &pod["containers"][0];
        assert_eq!(redis["command"][1], "/etc/tanksim/redis.conf", "{}", what("redis.conf"));
        let init = pod["initContainers"].as_array().and_then(|c| c.first()).expect("an init container");
        assert_eq!(init["image"], redis["image"], "{}", what("the init step runs in the Redis image"));
        let command: Vec<&str> =
            init["command"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert_eq!(
            command,
            ["sh", "/etc/tanksim/redis-users.sh", "/etc/tanksim/redis-users.acl", acl_file],
            "{}",
            what("the init step writes the file redis.conf loads")
        );
        let isc = &init["securityContext"];
        assert_eq!(isc["readOnlyRootFilesystem"], true, "{}", what("init"));
        assert_eq!(isc["allowPrivilegeEscalation"], false, "{}", what("init"));
        assert_eq!(isc["capabilities"]["drop"], serde_json::json!(["ALL"]), "{}", what("init"));
        assert!(init["resources"]["limits"]["memory"].is_string(), "{}", what("init"));
        let (dir, _) = acl_file.rsplit_once('/').unwrap();
        for c in [init, redis] {
            let mount = c["volumeMounts"].as_array().unwrap().iter().find(|m| m["mountPath"] == dir);
            assert!(mount.is_some(), "{}", what(&format!("{} mounts {dir}", c["name"])));
        }
        // The init step has every user's password, each from that user's Secret.
        for user in redis_users() {
            let var = format!("REDIS_PASSWORD_{}", user.to_uppercase().replace('-', "_"));
            let item = init["env"].as_array().unwrap().iter().find(|e| e["name"] == var.as_str());
            let from = &item.unwrap_or_else(|| panic!("{}", what(&format!("{var} unset"))))["valueFrom"]["secretKeyRef"];
            assert_eq!(
                (from["name"].as_str(), from["key"].as_str()),
                (Some(format!("redis-user-{user}").as_str()), Some("password")),
                "{}",
                what(&var)
            );
        }
        // Redis itself holds only the probe's password; each service connects as its own user.
        let redis_env: Vec<&str> = redis["env"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["valueFrom"]["secretKeyRef"]["name"].as_str())
            .collect();
        assert_eq!(redis_env, ["redis-user-probe"], "{}", what("redis"));
        for service in ["dispatcher", "results", "worker"] {
            let c = container(&rendered, service);
            assert_eq!(
                redis_user_secret(c, "TANKSIM_REDIS_URL"),
                format!("redis-user-{service}"),
                "{}",
                what(service)
            );
        }
    }
}
