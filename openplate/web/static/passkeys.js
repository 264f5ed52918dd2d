// Passkeys (WebAuthn): our own small script, no library. A form with data-passkey="create" or
// "get" asks the server for options (data-options, posted with the form's CSRF token), hands
// them to the browser's authenticator, puts the answer in the form's "credential" field and
// submits the form; the server verifies it and answers with a redirect, as for any form.
"use strict";
(function () {
  function toBytes(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(base64 + "===".slice((base64.length + 3) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }
  function toText(buffer) {
    const bytes = new Uint8Array(buffer);
    let raw = "";
    for (const b of bytes) raw += String.fromCharCode(b);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function creationOptions(o) {
    o.challenge = toBytes(o.challenge);
    o.user.id = toBytes(o.user.id);
    (o.excludeCredentials || []).forEach((c) => { c.id = toBytes(c.id); });
    return o;
  }
  function requestOptions(o) {
    o.challenge = toBytes(o.challenge);
    (o.allowCredentials || []).forEach((c) => { c.id = toBytes(c.id); });
    return o;
  }
  function asJson(credential) {
    const r = credential.response;
    const response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      if (r.getTransports) response.transports = r.getTransports();
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      if (r.userHandle) response.userHandle = toText(r.userHandle);
    }
    return JSON.stringify({
      id: credential.id, rawId: toText(credential.rawId), type: credential.type, response,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
    });
  }
  function say(form, message) {
    const box = form.querySelector("[data-passkey-error]");
    if (!box) return;
    box.textContent = message;
    box.hidden = !message;
  }
  async function run(form) {
    const body = new URLSearchParams({ csrf_token: form.elements.csrf_token.value });
    if (form.elements.next) body.set("next", form.elements.next.value);
    const answer = await fetch(form.dataset.options, { method: "POST", body, credentials: "same-origin" });
    const options = await answer.json();
    if (!answer.ok) throw new Error(options.error || "The server could not start this. Reload the page and try again.");
    const credential = form.dataset.passkey === "create"
      ? await navigator.credentials.create({ publicKey: creationOptions(options) })
      : await navigator.credentials.get({ publicKey: requestOptions(options) });
    form.elements.credential.value = asJson(credential);
    form.submit();
  }
  document.querySelectorAll("form[data-passkey]").forEach((form) => {
    if (!window.PublicKeyCredential) {
      say(form, "This browser cannot use passkeys.");
      form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
      return;
    }
    form.addEventListener("submit", (event) => {
      if (form.elements.credential.value) return;
      event.preventDefault();
      if (!form.reportValidity()) return;
      say(form, "");
      run(form).catch((error) => {
        say(form, error && error.name === "NotAllowedError"
          ? "The passkey was not used (cancelled or timed out). Try again."
          : (error && error.message) || "The passkey did not work. Try again.");
      });
    });
  });
})();
