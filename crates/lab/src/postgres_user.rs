//! Who a PostgreSQL cluster runs as. PostgreSQL refuses to run as root, so when stackwise runs
//! as root the cluster runs as `postgres` (or `nobody`); the cluster ([`crate::postgres`]) starts
//! as that user, and the npm binaries ([`crate::postgres_npm`]) are installed where it can reach
//! them. Both depend on this module rather than on each other.

/// When running as root, the user the cluster runs as.
pub(crate) fn unprivileged_owner() -> Option<(u32, u32)> {
    if !nix::unistd::Uid::effective().is_root() {
        return None;
    }
    ["postgres", "nobody"].iter().find_map(|name| {
        let user = nix::unistd::User::from_name(name).ok()??;
        Some((user.uid.as_raw(), user.gid.as_raw()))
    })
}
