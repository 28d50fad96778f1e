// Bun has no template engine: pages are tagged template literals whose interpolated values are
// escaped with Bun's built-in Bun.escapeHTML (& < > " ').

/** An HTML tag: values are escaped unless they are already rendered HTML (an `html` result). */
function html(strings, ...values) {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) {
    out += render(values[i]) + strings[i + 1];
  }
  return new Html(out);
}

class Html {
  constructor(text) {
    this.text = text;
  }
  toString() {
    return this.text;
  }
}

function render(value) {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join("");
  return Bun.escapeHTML(value);
}

/** The fortunes page. */
export const fortunesPage = (fortunes) => html`<!DOCTYPE html>
<html>
<head><title>Fortunes</title></head>
<body>
<table>
<tr><th>id</th><th>message</th></tr>
${fortunes.map((f) => html`<tr><td>${f.id}</td><td>${f.message}</td></tr>
`)}</table>
</body>
</html>`.text;
