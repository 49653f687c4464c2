// Every OAuth flow AgentAuth offers, driven by oauth4webapi exactly as its documentation shows.
// Reads the test's setup (issuer, agents, the person's session) as JSON on stdin and prints one
// JSON line per flow: {"flow", "ok", "error"?}. Exits 1 when any flow failed.
import * as oauth from "oauth4webapi";

const setup = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => { text += chunk; });
  process.stdin.on("end", () => resolve(text));
}));
const issuer = new URL(setup.issuer);
const http = { [oauth.allowInsecureRequests]: true }; // the test server is plain http on loopback
const api = new URL("/api/", issuer);
let failures = 0;
const state = {};

async function flow(name, run) {
  try {
    await run();
    console.log(JSON.stringify({ flow: name, ok: true }));
  } catch (error) {
    failures += 1;
    const detail = error.cause instanceof Response ? ` (HTTP ${error.cause.status})`
      : Array.isArray(error.cause) ? ` ${JSON.stringify(error.cause)}` : "";
    console.log(JSON.stringify({ flow: name, ok: false, error: `${error.name}: ${error.message}${detail}`, code: error.code, body: error.cause?.error ?? null }));
  }
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// The person, in their browser: a signed-in session cookie and its CSRF token.
async function asPerson(url, { method = "GET", form } = {}) {
  const headers = { cookie: setup.person.cookie };
  let body;
  if (form) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams({ ...form, csrfmiddlewaretoken: setup.csrf });
  }
  return fetch(url, { method, headers, body, redirect: "manual" });
}

function signedRequest(html) {
  const found = html.match(/name="request" value="([^"]+)"/);
  check(found, "no consent form on the page");
  return found[1].replaceAll("&quot;", '"').replaceAll("&amp;", "&");
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let as;
await flow("discovery", async () => {
  const response = await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...http });
  as = await oauth.processDiscoveryResponse(issuer, response);
  const jwks = await (await fetch(as.jwks_uri)).json();
  check(jwks.keys.length > 0, "the JWKS is empty");
  check(as.code_challenge_methods_supported.includes("S256"), "S256 is not advertised");
});
if (!as) process.exit(1);

await flow("resource discovery", async () => {
  const response = await oauth.resourceDiscoveryRequest(api, http);
  const resource = await oauth.processResourceDiscoveryResponse(api, response);
  check(resource.authorization_servers.includes(as.issuer), "the resource does not name its issuer");
});

await flow("dynamic registration", async () => {
  const response = await oauth.dynamicClientRegistrationRequest(as, {
    client_name: "Strict web agent",
    redirect_uris: ["http://127.0.0.1:9/cb"],
    grant_types: ["authorization_code", "refresh_token"],
    token_endpoint_auth_method: "client_secret_basic",
  }, http);
  state.web = await oauth.processDynamicClientRegistrationResponse(response);
  const device = await oauth.dynamicClientRegistrationRequest(as, {
    client_name: "Strict TV agent",
    grant_types: ["urn:ietf:params:oauth:grant-type:device_code"],
    token_endpoint_auth_method: "none",
  }, http);
  state.tv = await oauth.processDynamicClientRegistrationResponse(device);
  check(state.web.client_secret && !state.tv.client_secret, "secrets do not match the auth methods");
});

await flow("client credentials", async () => {
  const client = { client_id: setup.worker.client_id };
  const auth = oauth.ClientSecretBasic(setup.worker.client_secret);
  const response = await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams(), http);
  const tokens = await oauth.processClientCredentialsResponse(as, client, response);
  check(tokens.scope === "documents:read payments:read", `scope ${tokens.scope}: not the standing grant`);
  state.workerToken = tokens.access_token;
  const call = await oauth.protectedResourceRequest(tokens.access_token, "GET", new URL("/api/v1/documents/", issuer), undefined, undefined, http);
  check(call.status === 200, `the API answered ${call.status}`);
});

await flow("jwt access token profile", async () => {
  // What a resource server would do with the token (RFC 9068), against the published keys.
  const request = new Request(new URL("/api/v1/documents/", issuer), { headers: { authorization: `Bearer ${state.workerToken}` } });
  const claims = await oauth.validateJwtAccessToken(as, request, api.href, http);
  check(claims.client_id === setup.worker.client_id, "client_id claim");
});

await flow("invalid client challenge", async () => {
  const client = { client_id: setup.worker.client_id };
  const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic("wrong"), new URLSearchParams(), http);
  try {
    await oauth.processClientCredentialsResponse(as, client, response);
  } catch (error) {
    const challenges = error.cause instanceof Array ? error.cause : [];
    check(error instanceof oauth.WWWAuthenticateChallengeError, `not a challenge error: ${error.name}`);
    check(challenges.some((challenge) => challenge.scheme === "basic"), "no Basic challenge");
    return;
  }
  throw new Error("a wrong secret got a token");
});

// The person consents to a code request for documents:read; returns the checked callback
// parameters and the PKCE verifier the code is bound to.
const REDIRECT_URI = "http://127.0.0.1:9/cb";
async function consentedCode(client, expectedState = oauth.expectNoState) {
  const verifier = oauth.generateRandomCodeVerifier();
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: client.client_id, redirect_uri: REDIRECT_URI, response_type: "code", scope: "documents:read",
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
    ...(typeof expectedState === "string" ? { state: expectedState } : {}),
  });
  const page = await asPerson(url);
  check(page.status === 200, `the consent screen answered ${page.status}`);
  const decided = await asPerson(new URL(as.authorization_endpoint), {
    method: "POST", form: { request: signedRequest(await page.text()), scope: "documents:read", allow: "1" },
  });
  const location = decided.headers.get("location");
  check(decided.status === 302 && location, `consent answered ${decided.status}`);
  return { params: oauth.validateAuthResponse(as, client, new URL(location), expectedState), verifier };
}

await flow("code + pkce", async () => {
  const client = { client_id: state.web.client_id };
  const auth = oauth.ClientSecretBasic(state.web.client_secret);
  const { params, verifier } = await consentedCode(client, oauth.generateRandomState());
  const response = await oauth.authorizationCodeGrantRequest(as, client, auth, params, REDIRECT_URI, verifier, http);
  state.code = await oauth.processAuthorizationCodeResponse(as, client, response);
  check(state.code.refresh_token, "no refresh token");
});

await flow("refresh rotation", async () => {
  const client = { client_id: state.web.client_id };
  const auth = oauth.ClientSecretBasic(state.web.client_secret);
  const first = state.code.refresh_token;
  const rotated = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth, first, http));
  check(rotated.refresh_token && rotated.refresh_token !== first, "the refresh token did not rotate");
  state.refreshed = rotated;
  try {
    await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth, first, http));
  } catch (error) {
    check(error instanceof oauth.ResponseBodyError && error.error === "invalid_grant", `replay answered ${error.message}`);
    return;
  }
  throw new Error("a used refresh token was accepted again");
});

await flow("revocation and introspection", async () => {
  const rs = { client_id: setup.resource_server.client_id };
  const rsAuth = oauth.ClientSecretBasic(setup.resource_server.client_secret);
  // (The refreshed tokens died with the replayed refresh token above: the whole family goes.)
  const replayed = await oauth.processIntrospectionResponse(as, rs, await oauth.introspectionRequest(as, rs, rsAuth, state.refreshed.access_token, http));
  check(replayed.active === false, "tokens of a replayed refresh token family are still active");
  const token = state.workerToken;
  const live = await oauth.processIntrospectionResponse(as, rs, await oauth.introspectionRequest(as, rs, rsAuth, token, http));
  check(live.active === true && live.client_id === setup.worker.client_id, "a live token introspected inactive");
  const worker = { client_id: setup.worker.client_id };
  const revoked = await oauth.revocationRequest(as, worker, oauth.ClientSecretBasic(setup.worker.client_secret), token, http);
  await oauth.processRevocationResponse(revoked);
  const after = await oauth.processIntrospectionResponse(as, rs, await oauth.introspectionRequest(as, rs, rsAuth, token, http));
  check(after.active === false, "a revoked token is still active");
});

await flow("device", async () => {
  const client = { client_id: state.tv.client_id };
  const started = await oauth.processDeviceAuthorizationResponse(as, client, await oauth.deviceAuthorizationRequest(as, client, oauth.None(), { scope: "documents:read" }, http));
  check(started.verification_uri_complete?.includes(started.user_code), "no verification_uri_complete");
  const page = await asPerson(new URL(started.verification_uri), { method: "POST", form: { user_code: started.user_code } });
  const done = await asPerson(new URL(started.verification_uri), {
    method: "POST", form: { request: signedRequest(await page.text()), scope: "documents:read", allow: "1" },
  });
  check(done.status === 200, `the device page answered ${done.status}`);
  let interval = started.interval ?? 5;
  for (let attempt = 0; attempt < 10; attempt += 1) {
    await sleep(interval * 1000);
    try {
      const tokens = await oauth.processDeviceCodeResponse(as, client, await oauth.deviceCodeGrantRequest(as, client, oauth.None(), started.device_code, http));
      check(tokens.scope === "documents:read", `scope ${tokens.scope}`);
      return;
    } catch (error) {
      if (!(error instanceof oauth.ResponseBodyError)) throw error;
      if (error.error === "slow_down") interval += 5;
      else if (error.error !== "authorization_pending") throw error;
    }
  }
  throw new Error("the device code never turned into a token");
});

await flow("ciba", async () => {
  const client = { client_id: setup.ciba.client_id };
  const auth = oauth.ClientSecretBasic(setup.ciba.client_secret);
  const detail = {
    type: "payment_initiation",
    instructedAmount: { currency: "EUR", amount: "12.00" },
    creditorName: "Strict Shop",
    remittanceInformationUnstructured: "Order 7",
  };
  const started = await oauth.processBackchannelAuthenticationResponse(as, client, await oauth.backchannelAuthenticationRequest(as, client, auth, {
    scope: "openid payments:execute", login_hint: setup.person.login, binding_message: "STRICT-7",
    authorization_details: JSON.stringify([detail]),
  }, http));
  const decided = await fetch(new URL(`/api/v1/approvals/${encodeURIComponent(started.auth_req_id)}/decision`, issuer), {
    method: "POST",
    headers: { cookie: setup.person.cookie, "x-csrftoken": setup.csrf, "content-type": "application/json" },
    body: JSON.stringify({ decision: "approve" }),
  });
  check(decided.status === 200, `the decision answered ${decided.status}: ${await decided.text()}`);
  let interval = started.interval ?? 5;
  for (let attempt = 0; attempt < 10; attempt += 1) {
    await sleep(interval * 1000);
    try {
      const tokens = await oauth.processBackchannelAuthenticationGrantResponse(as, client, await oauth.backchannelAuthenticationGrantRequest(as, client, auth, started.auth_req_id, http));
      check(tokens.scope === "payments:execute", `scope ${tokens.scope}`);
      const body = { amount: "12.00", currency: "EUR", to: "Strict Shop", memo: "Order 7" };
      const paid = await oauth.protectedResourceRequest(tokens.access_token, "POST", new URL("/api/v1/payments/", issuer),
        new Headers({ "content-type": "application/json" }), JSON.stringify(body), http);
      check(paid.status === 201, `the payment answered ${paid.status}`);
      return;
    } catch (error) {
      if (!(error instanceof oauth.ResponseBodyError)) throw error;
      if (error.error === "slow_down") interval += 5;
      else if (error.error !== "authorization_pending") throw error;
    }
  }
  throw new Error("the CIBA request never turned into a token");
});

await flow("dpop client credentials and api", async () => {
  const client = { client_id: setup.worker.client_id };
  const auth = oauth.ClientSecretBasic(setup.worker.client_secret);
  const DPoP = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
  const response = await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams(), { DPoP, ...http });
  const tokens = await oauth.processClientCredentialsResponse(as, client, response);
  check(tokens.token_type === "dpop", `token_type ${tokens.token_type}`);
  const url = new URL("/api/v1/documents/", issuer);
  const call = await oauth.protectedResourceRequest(tokens.access_token, "GET", url, undefined, undefined, { DPoP, ...http });
  check(call.status === 200, `the API answered ${call.status} with a proof`);
  try {
    await oauth.protectedResourceRequest(tokens.access_token, "GET", url, undefined, undefined, http);
    throw new Error("the API took the bound token sent as Bearer");
  } catch (error) {
    check(error instanceof oauth.WWWAuthenticateChallengeError, `the bound token as Bearer: ${error.message}`);
  }
});

await flow("dpop public client refresh", async () => {
  const registered = await oauth.processDynamicClientRegistrationResponse(await oauth.dynamicClientRegistrationRequest(as, {
    client_name: "Strict phone agent", redirect_uris: ["http://127.0.0.1:9/cb"],
    grant_types: ["authorization_code", "refresh_token"], token_endpoint_auth_method: "none",
  }, http));
  const client = { client_id: registered.client_id };
  const DPoP = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
  const { params, verifier } = await consentedCode(client);
  const tokens = await oauth.processAuthorizationCodeResponse(as, client,
    await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT_URI, verifier, { DPoP, ...http }));
  check(tokens.token_type === "dpop" && tokens.refresh_token, "no bound tokens");
  const otherKey = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
  try {
    await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token, { DPoP: otherKey, ...http }));
    throw new Error("the refresh token worked with another key");
  } catch (error) {
    check(error instanceof oauth.ResponseBodyError && error.error === "invalid_grant", `another key got ${error.message}`);
  }
  const rotated = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token, { DPoP, ...http }));
  check(rotated.token_type === "dpop" && rotated.refresh_token !== tokens.refresh_token, "no rotation with the key");
});

await flow("private_key_jwt", async () => {
  const { privateKey, publicKey } = await oauth.generateKeyPair("ES256", { extractable: true });
  const publicJwk = { ...(await crypto.subtle.exportKey("jwk", publicKey)), kid: "strict-1", alg: "ES256", use: "sig" };
  const registered = await oauth.processDynamicClientRegistrationResponse(await oauth.dynamicClientRegistrationRequest(as, {
    client_name: "Strict keyed agent", redirect_uris: ["http://127.0.0.1:9/cb"],
    grant_types: ["authorization_code"], token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [publicJwk] },
  }, http));
  check(!registered.client_secret, "a keyed agent was given a secret");
  const client = { client_id: registered.client_id };
  const auth = oauth.PrivateKeyJwt({ key: privateKey, kid: "strict-1" });
  const { params, verifier } = await consentedCode(client);
  const tokens = await oauth.processAuthorizationCodeResponse(as, client,
    await oauth.authorizationCodeGrantRequest(as, client, auth, params, REDIRECT_URI, verifier, http));
  check(tokens.access_token && tokens.scope === "documents:read", "no token for a private_key_jwt agent");
});

await flow("private_key_jwt client credentials", async () => {
  const { kid, ...privateJwk } = setup.keyed_worker.private_jwk;
  const key = await crypto.subtle.importKey("jwk", privateJwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
  const client = { client_id: setup.keyed_worker.client_id };
  const auth = oauth.PrivateKeyJwt({ key, kid });
  const tokens = await oauth.processClientCredentialsResponse(as, client,
    await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams(), http));
  check(tokens.scope === "documents:read", `scope ${tokens.scope}`);
});

process.exit(failures ? 1 : 0);
