// Passkeys with the browser's own WebAuthn Level 3 JSON methods: add one (passkeys page), sign in
// with one (sign-in page), and confirm a high-risk approval with one (step-up page). The server
// makes every challenge and checks every answer; this only carries them.
"use strict";

(() => {
  const supported = window.PublicKeyCredential && PublicKeyCredential.parseCreationOptionsFromJSON;
  const csrfToken = () => (document.cookie.match(/(?:^|; )(?:__Host-)?csrftoken=([^;]+)/) || [])[1] || "";
  const post = async (url, body) => {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.error_description || `the server answered ${response.status}`);
    return answer;
  };
  const explain = (error) => (error.name === "NotAllowedError" ? "Cancelled, or no passkey was chosen." : error.message);
  const ask = async (optionsUrl) => {
    const options = PublicKeyCredential.parseRequestOptionsFromJSON(await post(optionsUrl));
    return (await navigator.credentials.get({ publicKey: options })).toJSON();
  };

  const adder = document.querySelector("[data-passkey-add]");
  if (adder) {
    const status = document.querySelector("[data-role=passkey-status]");
    if (!supported) {
      adder.querySelector("button").disabled = true;
      status.textContent = "This browser cannot create passkeys.";
    }
    adder.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const options = PublicKeyCredential.parseCreationOptionsFromJSON(await post(adder.dataset.options));
        const credential = await navigator.credentials.create({ publicKey: options });
        await post(adder.dataset.endpoint, { credential: credential.toJSON(), name: adder.elements.name.value });
        window.location.reload();
      } catch (error) {
        status.textContent = `Not added: ${explain(error)}`;
      }
    });
  }

  const signIn = document.querySelector("[data-passkey-sign-in]");
  if (signIn && supported) {
    signIn.hidden = false;
    const status = signIn.querySelector("[data-role=passkey-status]");
    signIn.querySelector("button").addEventListener("click", async () => {
      status.textContent = "";
      try {
        const credential = await ask(signIn.dataset.options);
        const { redirect } = await post(signIn.dataset.endpoint, { credential, next: signIn.dataset.next });
        window.location.assign(redirect);
      } catch (error) {
        status.textContent = `Not signed in: ${explain(error)}`;
      }
    });
  }

  const stepUp = document.querySelector("[data-step-up]");
  const usePasskey = stepUp && stepUp.querySelector("[data-role=use-passkey]");
  if (usePasskey) {
    if (!supported) usePasskey.hidden = true;
    usePasskey.addEventListener("click", async () => {
      try {
        stepUp.elements.passkey.value = JSON.stringify(await ask(stepUp.dataset.options));
        stepUp.requestSubmit(stepUp.querySelector("button[name=approve]"));
      } catch (error) {
        usePasskey.insertAdjacentHTML("afterend", '<p class="error" role="alert"></p>');
        usePasskey.nextElementSibling.textContent = `Not confirmed: ${explain(error)}`;
      }
    });
  }
})();
