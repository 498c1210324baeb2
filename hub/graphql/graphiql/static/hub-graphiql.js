// Strawberry's GraphiQL boot script (strawberry/static/graphiql.html), adapted for the hub:
// no CSRF cookie (the hub takes bearer tokens, sent from the Headers tab), a welcome text
// that says how to get a token, and the Headers tab open and persisted in this browser.
"use strict";

const EXAMPLE_QUERY = `# Satu Pintu Hub
#
# Every query needs a token. \`make demo\` prints, for each role, a line such as
#   {"Authorization": "Bearer eyJ...", "X-Purpose": "SERVICE_DELIVERY"}
# Paste it into the Headers tab below, then run (Ctrl-Enter or the play button):

{
  me { clientId roles organization { code name } }
  regions(level: KECAMATAN) { code name }
}
`;

// Parse URL parameters for sharing queries (never headers: they hold tokens).
const parameters = {};
for (const entry of window.location.search.slice(1).split("&")) {
  const eq = entry.indexOf("=");
  if (eq >= 0) {
    parameters[decodeURIComponent(entry.slice(0, eq))] = decodeURIComponent(
      entry.slice(eq + 1),
    );
  }
}

function updateURL(data) {
  Object.assign(parameters, data);
  const newSearch =
    "?" +
    Object.keys(parameters)
      .filter((key) => Boolean(parameters[key]))
      .map((key) => encodeURIComponent(key) + "=" + encodeURIComponent(parameters[key]))
      .join("&");
  history.replaceState(null, null, newSearch);
}

const fetchURL = window.location.href.split("?")[0];

function httpUrlToWebSocketUrl(url) {
  const parsedURL = new URL(url);
  parsedURL.protocol = parsedURL.protocol === "http:" ? "ws:" : "wss:";
  parsedURL.hash = "";
  return parsedURL.toString();
}

const fetcher = GraphiQL.createFetcher({
  url: fetchURL,
  subscriptionUrl: httpUrlToWebSocketUrl(fetchURL),
});

function GraphiQLWithExplorer() {
  const [query, setQuery] = React.useState(parameters.q || EXAMPLE_QUERY);
  const [variables, setVariables] = React.useState(parameters.variables);

  function onEditQuery(newQuery) {
    setQuery(newQuery);
    updateURL({ q: newQuery });
  }

  function onEditVariables(newVariables) {
    setVariables(newVariables);
    updateURL({ variables: newVariables });
  }

  return React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultEditorToolsVisibility: "headers",
    plugins: [GraphiQLPluginExplorer.explorerPlugin()],
    query: query,
    variables: variables,
    onEditQuery: onEditQuery,
    onEditVariables: onEditVariables,
    inputValueDeprecation: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
  });
}

const root = ReactDOM.createRoot(document.getElementById("graphiql"));
root.render(React.createElement(GraphiQLWithExplorer));
