// The official MCP TypeScript SDK's client, unmodified, for tests/mcp: connects to the MCP server
// given as argv[2], registers itself (RFC 7591, a public client) and runs the authorization code
// flow. The test drives the person's browser: this prints {"authorize": url} and reads back
// {"callback": url}; at the end it prints {"tools": [...], "documents": ...}.
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";

const [serverUrl, redirectUrl] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const say = (message) => process.stdout.write(JSON.stringify(message) + "\n");

class Provider {
  get redirectUrl() { return redirectUrl; }
  get clientMetadata() {
    return {
      client_name: "TypeScript MCP client",
      redirect_uris: [redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  state() { return (this.sentState = randomBytes(16).toString("hex")); }
  clientInformation() { return this.client; }
  saveClientInformation(information) { this.client = information; }
  tokens() { return this.savedTokens; }
  saveTokens(tokens) { this.savedTokens = tokens; }
  saveCodeVerifier(verifier) { this.verifier = verifier; }
  codeVerifier() { return this.verifier; }
  redirectToAuthorization(url) { this.authorizationUrl = url; }
}

try {
  const provider = new Provider();
  const client = new Client({ name: "agentauth-test", version: "1.0.0" });
  let transport = new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider });
  try {
    await client.connect(transport);
  } catch (error) {
    if (!(error instanceof UnauthorizedError) || !provider.authorizationUrl) throw error;
    say({ authorize: provider.authorizationUrl.href });
    const callback = new URL(JSON.parse((await lines.next()).value).callback);
    if (callback.searchParams.get("state") !== provider.sentState) throw new Error("state mismatch");
    await transport.finishAuth(callback.searchParams.get("code"));
    transport = new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider });
    await client.connect(transport);
  }
  const tools = (await client.listTools()).tools.map((tool) => tool.name);
  const documents = await client.callTool({ name: "list_documents", arguments: {} });
  say({ tools, documents: documents.structuredContent ?? documents.content, token: provider.savedTokens.access_token });
  await client.close();
  process.exit(0);
} catch (error) {
  say({ error: String(error && error.stack || error) });
  process.exit(1);
}
