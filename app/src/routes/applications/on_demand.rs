//! Provision on demand: one user (or a group of at most five members) through the whole
//! pipeline now, each step shown as it completes (Connection, Import, Member..., Scope, Match,
//! Action), then a link to the entries it logged. The steps arrive as a stream, so this blade
//! needs its script: the button waits for it.

use futures::StreamExt;
use leptos::prelude::*;

use super::ApplicationTab;
use crate::{api::provisioning::provision_on_demand, components::query_link, model::OnDemandStep};

#[component]
pub fn ProvisionOnDemandPage() -> impl IntoView {
    view! { <ApplicationTab current="Provision on demand" content=|app| view! { <OnDemand id=app.id /> } /> }
}

#[component]
fn OnDemand(id: String) -> impl IntoView {
    let object = RwSignal::new(String::new());
    let steps = RwSignal::new(Vec::<OnDemandStep>::new());
    let error = RwSignal::new(None::<String>);
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let run = {
        let id = id.clone();
        Action::new_local(move |name: &String| {
            let (id, name) = (id.clone(), name.clone());
            async move {
                steps.set(Vec::new());
                error.set(None);
                let stream = match provision_on_demand(id, name).await {
                    Ok(stream) => stream,
                    Err(e) => return error.set(Some(e.to_string())),
                };
                let mut stream = stream.into_inner();
                let mut pending = String::new();
                while let Some(chunk) = stream.next().await {
                    match chunk {
                        Ok(text) => pending.push_str(&text),
                        Err(e) => return error.set(Some(e.to_string())),
                    }
                    while let Some(end) = pending.find('\n') {
                        let line: String = pending.drain(..=end).collect();
                        if let Ok(step) = serde_json::from_str::<OnDemandStep>(&line) {
                            steps.update(|s| s.push(step));
                        }
                    }
                }
            }
        })
    };
    let logs = {
        let id = id.clone();
        move || {
            query_link(
                &format!("/applications/{id}/provisioning-logs"),
                &[("identity", object.get())],
            )
        }
    };
    view! {
        <p class="muted">"Provision one user, or a group of at most 5 members, now: each step shows as it completes."</p>
        <form class="blade-form on-demand" on:submit=move |ev| {
            ev.prevent_default();
            run.dispatch(object.get_untracked());
        }>
            <div class="form-field">
                <label for="field-object">"User or group"</label>
                <input id="field-object" name="object" type="search" placeholder="User principal name, group name or ID"
                    prop:value=move || object.get() on:input=move |ev| object.set(event_target_value(&ev)) />
            </div>
            <button type="submit" class="primary" disabled=move || !hydrated.get() || run.pending().get()>"Provision"</button>
        </form>
        {move || error.get().map(|e| view! { <div class="banner error" role="alert">{e}</div> })}
        <ol class="steps on-demand-steps" data-test="on-demand-steps">
            {move || steps.get().into_iter().map(|s| {
                let class = format!("step {}", s.result.to_lowercase());
                view! { <li class=class><strong>{s.name}</strong>" "{s.result}": "{s.detail}</li> }
            }).collect_view()}
        </ol>
        {move || (!run.pending().get() && !steps.get().is_empty()).then(|| view! {
            <p><a href=logs.clone()>"See the provisioning log entries"</a></p>
        })}
    }
}
