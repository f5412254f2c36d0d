//! Provision on demand: one user or group through the whole pipeline now, each step shown as it
//! completes under the portal's names (Test connection, Import user, Determine if user is in
//! scope, Match user between source and target system, Perform action), then a link to the
//! entries it logged. Of a group with more than five members, the administrator chooses five. The steps arrive as a stream, so this blade
//! needs its script: the button waits for it.

use futures::StreamExt;
use leptos::prelude::*;

use super::ApplicationTab;
use crate::{
    api::{
        groups::member_candidates,
        provisioning::{on_demand_members, provision_on_demand},
    },
    components::{Suggestions, query_link},
    model::OnDemandStep,
};

#[component]
pub fn ProvisionOnDemandPage() -> impl IntoView {
    view! { <ApplicationTab current="Provision on demand" content=|id| view! { <OnDemand id /> } /> }
}

#[component]
fn OnDemand(id: String) -> impl IntoView {
    let object = RwSignal::new(String::new());
    let steps = RwSignal::new(Vec::<OnDemandStep>::new());
    let error = RwSignal::new(None::<String>);
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    // What the name typed suggests, and the members to choose from when it is a group of more
    // than five (the portal's "Select up to 5 group members").
    let suggestions = Resource::new(move || object.get(), member_candidates);
    let members = Resource::new(move || object.get(), on_demand_members);
    let chosen = RwSignal::new(Vec::<String>::new());
    // The steps stream in as they complete; the run is started by the browser only (the
    // button waits for the script), so nothing of it exists on the server.
    let pending = RwSignal::new(false);
    let run = {
        let id = id.clone();
        move |name: String, members: Vec<String>| {
            let id = id.clone();
            pending.set(true);
            steps.set(Vec::new());
            error.set(None);
            leptos::task::spawn_local(async move {
                stream_steps(id, name, members, steps, error).await;
                // The page may be gone by now: nothing to tell then.
                let _ = pending.try_set(false);
            });
        }
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
        <p class="muted">"Provision one user or group now: each step shows as it completes. Of a group with more than 5 members, choose the 5 to provision with it."</p>
        <form class="blade-form on-demand" on:submit=move |ev| {
            ev.prevent_default();
            run(object.get_untracked(), chosen.get_untracked());
        }>
            <div class="form-field">
                <label for="field-object">"User or group"</label>
                <input id="field-object" name="object" type="search" list="object-suggestions" autocomplete="off"
                    placeholder="Name, user principal name, group name or ID"
                    prop:value=move || object.get()
                    on:input=move |ev| {
                        object.set(event_target_value(&ev));
                        chosen.set(Vec::new());
                    } />
                <Suggestions id="object-suggestions" suggestions />
            </div>
            <Transition>
                {move || Suspend::new(async move {
                    let members = members.await.unwrap_or_default();
                    (!members.is_empty()).then(|| view! {
                        <fieldset class="members" data-test="on-demand-members">
                            <legend>{format!("Select up to {MAX_MEMBERS} group members")}</legend>
                            {members.into_iter().map(|m| {
                                let (value, toggled) = (m.value.clone(), m.value.clone());
                                view! {
                                    <label class="checkbox">
                                        <input type="checkbox"
                                            prop:checked=move || chosen.read().contains(&value)
                                            disabled={
                                                let value = m.value.clone();
                                                move || chosen.read().len() >= MAX_MEMBERS && !chosen.read().contains(&value)
                                            }
                                            on:change=move |_| chosen.update(|c| match c.iter().position(|v| *v == toggled) {
                                                Some(at) => { c.remove(at); }
                                                None => c.push(toggled.clone()),
                                            }) />
                                        " "{m.label}
                                    </label>
                                }
                            }).collect_view()}
                        </fieldset>
                    })
                })}
            </Transition>
            <button type="submit" class="primary" disabled=move || !hydrated.get() || pending.get()>"Provision"</button>
        </form>
        {move || error.get().map(|e| view! { <div class="banner error" role="alert">{e}</div> })}
        <ol class="steps on-demand-steps" data-test="on-demand-steps">
            {move || steps.get().into_iter().map(|s| {
                let class = format!("step {}", s.result.to_lowercase());
                view! { <li class=class><strong>{s.name}</strong>" "{s.result}": "{s.detail}</li> }
            }).collect_view()}
        </ol>
        {move || (!pending.get() && !steps.get().is_empty()).then(|| view! {
            <p><a href=logs.clone()>"See the provisioning log entries"</a></p>
        })}
    }
}

/// Runs the provision on demand, adding each step to `steps` as its line arrives.
async fn stream_steps(
    id: String,
    name: String,
    members: Vec<String>,
    steps: RwSignal<Vec<OnDemandStep>>,
    error: RwSignal<Option<String>>,
) {
    let stream = match provision_on_demand(id, name, members).await {
        Ok(stream) => stream,
        Err(e) => {
            let _ = error.try_set(Some(e.to_string()));
            return;
        }
    };
    let mut stream = stream.into_inner();
    let mut pending = String::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(text) => pending.push_str(&text),
            Err(e) => {
                let _ = error.try_set(Some(e.to_string()));
                return;
            }
        }
        while let Some(end) = pending.find('\n') {
            let line: String = pending.drain(..=end).collect();
            if let Ok(step) = serde_json::from_str::<OnDemandStep>(&line)
                && steps.try_update(|s| s.push(step)).is_none()
            {
                return;
            }
        }
    }
}

/// The most members of a group that go with it (the portal's limit).
const MAX_MEMBERS: usize = 5;
