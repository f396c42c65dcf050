/* Renders the OpenAPI document as a list of operations and schemas (ES5, no libraries). */
(function () {
  var target = document.getElementById("reference");
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text) { node.appendChild(document.createTextNode(text)); }
    if (cls) { node.className = cls; }
    return node;
  }
  function refName(schema) {
    if (!schema) { return ""; }
    if (schema.$ref) { return schema.$ref.split("/").pop(); }
    if (schema.type === "array") { return refName(schema.items) + "[]"; }
    if (schema.anyOf) { return schema.anyOf.map(refName).join(" | "); }
    return schema.type || "";
  }
  function render(doc) {
    target.innerHTML = "";
    var paths = doc.paths || {};
    target.appendChild(el("h2", "接口 Operations"));
    Object.keys(paths).forEach(function (path) {
      Object.keys(paths[path]).forEach(function (method) {
        var op = paths[path][method], box = el("div", null, "op");
        var head = el("h3");
        head.appendChild(el("span", method.toUpperCase(), "method"));
        head.appendChild(document.createTextNode(" " + (doc.servers && doc.servers[0] ? doc.servers[0].url : "") + path));
        box.appendChild(head);
        box.appendChild(el("p", op.summary));
        if (op.description) { box.appendChild(el("p", op.description)); }
        if (op.parameters && op.parameters.length) {
          var table = el("table");
          table.appendChild(el("tr")).innerHTML = "<th>parameter</th><th>in</th><th>type</th><th>description</th>";
          op.parameters.forEach(function (p) {
            var row = el("tr");
            row.appendChild(el("td", p.name + (p.required ? " *" : "")));
            row.appendChild(el("td", p["in"]));
            row.appendChild(el("td", refName(p.schema)));
            row.appendChild(el("td", p.description || ""));
            table.appendChild(row);
          });
          box.appendChild(table);
        }
        if (op.requestBody) {
          box.appendChild(el("p", "Body: " + refName(op.requestBody.content["application/json"].schema)));
        }
        var codes = Object.keys(op.responses).map(function (code) {
          var content = op.responses[code].content;
          return code + (content ? " " + refName(content["application/json"].schema) : "");
        });
        box.appendChild(el("p", "Responses: " + codes.join(", ")));
        target.appendChild(box);
      });
    });
    target.appendChild(el("h2", "数据结构 Schemas"));
    var schemas = (doc.components && doc.components.schemas) || {};
    Object.keys(schemas).forEach(function (name) {
      var schema = schemas[name], box = el("div", null, "op");
      box.appendChild(el("h3", name));
      if (schema.description) { box.appendChild(el("p", schema.description)); }
      var table = el("table"), props = schema.properties || {}, required = schema.required || [];
      Object.keys(props).forEach(function (prop) {
        var row = el("tr");
        row.appendChild(el("td", prop + (required.indexOf(prop) >= 0 ? " *" : "")));
        row.appendChild(el("td", refName(props[prop])));
        row.appendChild(el("td", props[prop].description || ""));
        table.appendChild(row);
      });
      box.appendChild(table);
      target.appendChild(box);
    });
  }
  var request = new XMLHttpRequest();
  request.open("GET", "/api/v1/openapi.json");
  request.onload = function () {
    if (request.status === 200) { render(JSON.parse(request.responseText)); }
    else { target.innerHTML = "<p>Could not load the document (HTTP " + request.status + ").</p>"; }
  };
  request.send();
}());
