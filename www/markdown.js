// A small markdown renderer that builds DOM nodes, never HTML strings: model text only ever
// reaches the page through textContent, so markup in it is shown, not run. Images are never
// loaded: `![alt](url)` becomes a link the reader may choose to follow. Links are kept only for
// http(s) and mailto URLs and open in a new tab without a referrer.
//
// Supported: fenced code blocks, paragraphs, "- "/"* " and "1. " lists, "#" headings, "> "
// quotes, `code`, **bold**, *italic* / _italic_, [text](url).

const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

/** A fragment rendering `text` as markdown. */
export function renderMarkdown(text) {
  const out = document.createDocumentFragment();
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fence = line.match(/^\s*(```|~~~)\s*([\w+-]*)\s*$/);
    if (fence) {
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
      i++; // the closing fence (or the end of an unfinished stream)
      const pre = el("pre");
      const code = el("code", null, body.join("\n"));
      if (fence[2]) code.dataset.lang = fence[2];
      pre.append(code);
      out.append(pre);
      continue;
    }
    if (!line.trim()) {
      i++;
      continue;
    }
    const heading = line.match(/^(#{1,6})\s+(.*)$/);
    if (heading) {
      const h = el("p", `md-h md-h${heading[1].length}`);
      h.append(inline(heading[2]));
      out.append(h);
      i++;
      continue;
    }
    const list = listItem(line);
    if (list) {
      const container = el(list.ordered ? "ol" : "ul");
      while (i < lines.length) {
        const item = listItem(lines[i]);
        if (!item || item.ordered !== list.ordered) break;
        const li = el("li");
        li.append(inline(item.text));
        container.append(li);
        i++;
      }
      out.append(container);
      continue;
    }
    if (/^\s*>/.test(line)) {
      const quote = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) quote.push(lines[i++].replace(/^\s*>\s?/, ""));
      const bq = el("blockquote");
      bq.append(renderMarkdown(quote.join("\n")));
      out.append(bq);
      continue;
    }
    const para = [];
    while (i < lines.length && lines[i].trim() && !isBlockStart(lines[i])) para.push(lines[i++]);
    const p = el("p");
    para.forEach((l, n) => {
      if (n) p.append(el("br"));
      p.append(inline(l));
    });
    out.append(p);
  }
  return out;
}

function listItem(line) {
  const m = line.match(/^\s*(?:([-*+])|(\d{1,9})[.)])\s+(.*)$/);
  return m ? { ordered: !m[1], text: m[3] } : null;
}

function isBlockStart(line) {
  return /^\s*(```|~~~)/.test(line) || /^#{1,6}\s/.test(line) || !!listItem(line) || /^\s*>/.test(line);
}

const INLINE = /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)|(!?)\[([^\]\n]*)\]\(([^)\s]*)\)|\*\*([^*\n]+)\*\*|__([^_\n]+)__|\*([^*\n]+)\*|\b_([^_\n]+)_\b/g;

function inline(text) {
  const frag = document.createDocumentFragment();
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) frag.append(text.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[1]) frag.append(el("code", null, m[2]));
    else if (m[4] !== undefined || m[5] !== undefined) frag.append(link(m[4], m[5], m[3] === "!"));
    else if (m[6] || m[7]) frag.append(withInline("strong", m[6] ?? m[7]));
    else frag.append(withInline("em", m[8] ?? m[9]));
  }
  if (last < text.length) frag.append(text.slice(last));
  return frag;
}

function withInline(tag, text) {
  const node = el(tag);
  node.append(inline(text));
  return node;
}

function safeUrl(raw) {
  try {
    const url = new URL(raw, location.href);
    return ["http:", "https:", "mailto:"].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

function link(label, href, isImage) {
  const url = safeUrl(href);
  const text = isImage ? `image: ${label || href}` : label || href;
  if (!url) return document.createTextNode(isImage ? `[${text}]` : text);
  const a = el("a", isImage ? "md-image" : null, text);
  a.href = url;
  a.target = "_blank";
  a.rel = "noopener noreferrer nofollow";
  a.referrerPolicy = "no-referrer";
  if (isImage) a.title = `Image not loaded: ${url}`;
  return a;
}
