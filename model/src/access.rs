//! Who may do what in the console.

identifiers! {
    /// What a console user may do.
    Role {
        /// Everything: configuration, resync, realtime sync, rejected operations, users.
        Admin = "admin",
        /// Watch only: every page, no change.
        Viewer = "viewer",
    }
}
