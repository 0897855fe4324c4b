"""The page theme: one type scale, one spacing scale, one palette per mode, as CSS custom properties.

Geometry stays the compiler's business (boxes keep their places through ``--u``, 1% of the page height); the theme
only decides how things look: colours, type, radii, shadows, section bands and the hero banner.
"""

from __future__ import annotations

__all__ = ["CSS", "THEMES"]

THEMES: dict[str, dict[str, str]] = {
    "light": {"bg": "#ffffff", "fg": "#0f172a", "muted": "#475569", "line": "#dbe2ea", "accent": "#4f46e5",
              "accent-2": "#0891b2", "panel": "#f5f7fb", "tint": "#eef0ff", "on-accent": "#ffffff",
              "footer-bg": "#0f172a", "footer-fg": "#cbd5e1"},
    "dark": {"bg": "#11151c", "fg": "#e8ecf3", "muted": "#a3acbd", "line": "#333c4b", "accent": "#8b93ff",
             "accent-2": "#38bdf8", "panel": "#1a202a", "tint": "#1b1f35", "on-accent": "#0b0e13",
             "footer-bg": "#0a0d12", "footer-fg": "#a3acbd"},
}

CSS = """
*,*::before,*::after{box-sizing:border-box}
html{--u:max(calc(var(--aspect) * 1vw),1vh);--r-sm:6px;--r-md:12px;--r-lg:18px;
--s1:4px;--s2:8px;--s3:12px;--s4:16px;--s5:24px;--s6:32px;
--shadow:0 1px 2px rgb(15 23 42 / .06),0 4px 14px rgb(15 23 42 / .07)}
body{margin:0;background:var(--bg);color:var(--fg);font-family:Inter,system-ui,-apple-system,"Segoe UI",Roboto,
"DejaVu Sans",sans-serif;line-height:1.35;overflow-x:hidden;-webkit-font-smoothing:antialiased}
/* flow-root: a first row's top margin must not collapse through main and push the whole page down */
main{display:flow-root;min-height:calc(100 * var(--u))}
.row{display:flex;flex-wrap:nowrap;align-items:flex-start}
.row>*{flex:0 1 auto}
.col{display:flow-root}
.grid{display:grid;align-items:stretch}
h1,h2,h3,p{margin:0;overflow-wrap:anywhere}
h1,h2,h3{line-height:1.12;letter-spacing:-.015em;font-weight:750}
h1{background:linear-gradient(90deg,var(--fg),var(--accent));-webkit-background-clip:text;background-clip:text;
color:transparent}
h3{display:flex;align-items:center;gap:var(--s2)}
p,.label{color:var(--muted)}
.label{display:block}
.brand{color:var(--fg);font-weight:700;display:flex;align-items:center;gap:var(--s2)}
.brand .icon{color:var(--accent)}
header,nav,section,form,footer,article{display:flow-root}
header,nav{background:var(--bg);border-bottom:1px solid var(--line)}
section.hero{background:linear-gradient(180deg,var(--tint),var(--bg))}
section.features{background:var(--panel)}
form{background:var(--panel);border-top:1px solid var(--line)}
footer{background:var(--footer-bg);color:var(--footer-fg)}
footer p,footer .label,footer a{color:var(--footer-fg)}
.card{border:1px solid var(--line);border-radius:var(--r-md);background:var(--bg);box-shadow:var(--shadow);
padding:var(--s3)}
.badge{display:inline-flex;align-items:center;justify-content:center;width:1.6em;height:1.6em;flex:none;
border-radius:var(--r-sm);background:var(--tint);color:var(--accent)}
.badge .icon{width:.95em;height:.95em}
button{border:0;border-radius:999px;background:var(--accent);color:var(--on-accent);font:inherit;font-weight:650;
cursor:pointer;display:inline-flex;align-items:center;justify-content:center;gap:.45em;padding:0 1.1em;
box-shadow:0 6px 16px rgb(79 70 229 / .25)}
button.secondary{background:transparent;color:var(--accent);border:1.5px solid var(--accent);box-shadow:none}
button.tile{border-radius:var(--r-md);justify-content:space-between;padding:0 var(--s3);background:var(--bg);
color:var(--fg);border:1px solid var(--line);box-shadow:var(--shadow);text-align:left}
button.tile .icon{color:var(--accent)}
input,textarea,select{border:1px solid var(--line);border-radius:var(--r-sm);background:var(--bg);color:var(--fg);
font:inherit;padding:0 .75em}
input::placeholder,textarea::placeholder{color:var(--muted)}
textarea{padding:.5em .75em;resize:vertical}
.field{display:flex;flex-direction:column;gap:var(--s1)}
.choice{display:flex;align-items:center;gap:.5em}
.choice input{margin:0;width:1.1em;height:1.1em;accent-color:var(--accent)}
a{color:var(--accent);display:block;text-decoration:none;font-weight:550}
header a,nav a{color:var(--fg)}
figure{margin:0;display:block;position:relative;border-radius:var(--r-md);overflow:hidden}
/* absolute, so the drawing takes the box's size instead of imposing its own aspect ratio */
figure>svg{position:absolute;inset:0;display:block;width:100%;height:100%}
.media .glyph{display:none}
figure .glyph{position:absolute;left:50%;top:50%;transform:translate(-50%,-50%);width:min(64px,30%);
height:min(64px,30%);color:var(--accent);opacity:.55}
.media{position:relative;display:block}
.media>figure{position:absolute;inset:0}
.media>.overlay{position:relative;z-index:1;height:100%;display:flex;flex-direction:column;justify-content:center;
align-items:flex-start;gap:var(--s4);padding:6% 7%;background:linear-gradient(90deg,rgb(15 23 42 / .55),
rgb(15 23 42 / .05))}
.media>.overlay h1,.media>.overlay h2{color:#fff;background:none}
.headline{display:flex;flex-direction:column;align-items:flex-start;gap:var(--s3)}
.headline button{height:2.6em;font-size:max(16px,.38em)}
.headline>h1,.headline>h2{align-self:stretch;flex:1 0 auto}
.icon{flex:none}
@media (max-width:720px){
 html{--u:1vh}
 .row,.grid{display:flex;flex-direction:column;gap:10px;padding:0 12px}
 .col .row{padding:0}
 .row>*,.grid>*,.col>.row{width:100%!important;margin-left:0!important;margin-top:0!important;grid-column:auto!important}
 main,nav,header,section,form,footer,article{min-height:0!important}
 section,form,footer{padding:16px 0}
 figure,.media{min-height:160px}
 h1{font-size:min(2.2rem,9vw)!important}
}
"""
