//! What a credential allows. `admin` allows everything; the others one kind of call each.

use std::fmt;

/// One permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `SubmitJob`.
    JobsSubmit,
    /// `GetJob`, `WatchJob`, `ListJobs`, `GetJobResults`, `ExportRuns`.
    JobsRead,
    /// `CancelJob`.
    JobsCancel,
    /// `SimulationService.Simulate`.
    Simulate,
    /// Every scope.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 5] =
        [Scope::JobsSubmit, Scope::JobsRead, Scope::JobsCancel, Scope::Simulate, Scope::Admin];

    /// The scope's name in keys, tokens and errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::JobsSubmit => "jobs:submit",
            Scope::JobsRead => "jobs:read",
            Scope::JobsCancel => "jobs:cancel",
            Scope::Simulate => "simulate",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scopes(u8);

impl Scopes {
    /// Every scope (the anonymous caller when auth is off).
    pub fn all() -> Scopes {
        Scope::ALL.into_iter().collect()
    }

    /// Whether a call needing `scope` is allowed (`admin` allows every call).
    pub fn allows(self, scope: Scope) -> bool {
        self.0 & (scope.bit() | Scope::Admin.bit()) != 0
    }

    /// Strict parsing, for keys tanksim makes and files it reads: an unknown name is an error.
    pub fn parse_strict<S: AsRef<str>>(names: &[S]) -> Result<Scopes, String> {
        names
            .iter()
            .map(|n| {
                Scope::parse(n.as_ref()).ok_or_else(|| {
                    format!(
                        "unknown scope {:?} (known: {})",
                        n.as_ref(),
                        Scope::ALL.map(Scope::as_str).join(", ")
                    )
                })
            })
            .collect()
    }

    /// Lenient parsing, for tokens from an identity provider, which carry scopes of other
    /// applications too (`openid`, `profile`, ...): unknown names are ignored.
    pub fn parse_lenient<'a>(names: impl IntoIterator<Item = &'a str>) -> Scopes {
        names.into_iter().filter_map(Scope::parse).collect()
    }

    /// The scopes' names, in [`Scope::ALL`] order.
    pub fn names(self) -> Vec<&'static str> {
        Scope::ALL.into_iter().filter(|s| self.0 & s.bit() != 0).map(Scope::as_str).collect()
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Scopes(iter.into_iter().fold(0, |bits, s| bits | s.bit()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scope_allows_its_own_calls_and_admin_allows_all() {
        for scope in Scope::ALL {
            let only: Scopes = [scope].into_iter().collect();
            for other in Scope::ALL {
                let expected = other == scope || scope == Scope::Admin;
                assert_eq!(only.allows(other), expected, "{scope} allows {other}");
            }
        }
        assert!(!Scopes::default().allows(Scope::JobsRead));
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_refused_or_ignored() {
        let scopes = Scopes::parse_strict(&["jobs:read", "simulate"]).unwrap();
        assert_eq!(scopes.names(), ["jobs:read", "simulate"]);
        assert_eq!(Scopes::parse_strict(&scopes.names()).unwrap(), scopes);
        assert!(Scopes::parse_strict(&["jobs:read", "jobs:*"]).unwrap_err().contains("\"jobs:*\""));
        assert_eq!(
            Scopes::parse_lenient("openid jobs:read profile".split(' ')),
            Scopes::parse_strict(&["jobs:read"]).unwrap()
        );
        assert_eq!(Scopes::all().names().len(), 5);
    }
}
