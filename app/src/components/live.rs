//! Following server-sent events in the browser: JSON messages into a callback until it says
//! to stop or the component goes away.

/// Opens an EventSource on `url`; each message is parsed as `T` and passed to `on_message`,
/// which returns whether to keep listening. Closed when the calling component is cleaned up.
#[cfg(feature = "hydrate")]
pub fn subscribe<T: serde::de::DeserializeOwned + 'static>(
    url: &str,
    mut on_message: impl FnMut(T) -> bool + 'static,
) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let Ok(events) = web_sys::EventSource::new(url) else {
        return;
    };
    let handle = events.clone();
    let listener =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let Some(text) = ev.data().as_string() else {
                return;
            };
            if let Ok(value) = serde_json::from_str::<T>(&text) {
                if !on_message(value) {
                    handle.close();
                }
            }
        });
    events.set_onmessage(Some(listener.as_ref().unchecked_ref()));
    // The listener lives exactly as long as the subscription: dropped (not leaked) on cleanup.
    let subscription = send_wrapper::SendWrapper::new((events, listener));
    leptos::prelude::on_cleanup(move || {
        let (events, listener) = subscription.take();
        events.set_onmessage(None);
        events.close();
        drop(listener);
    });
}
