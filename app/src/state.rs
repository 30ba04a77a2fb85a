//! What server functions need from the running server.

use engine::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
}
