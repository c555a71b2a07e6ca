"""The lawful-basis register published as a readable transparency page."""

import dagster as dg

from config.resources import PlatformConfig

__all__ = ["transparency_page", "TRANSPARENCY_SUBDIR"]

TRANSPARENCY_SUBDIR = "transparency"


@dg.asset(
    key=dg.AssetKey(["exports", "transparency_page"]),
    group_name="governance",
    kinds={"python", "html"},
    code_version="1",
)
def transparency_page(
    context: dg.AssetExecutionContext, platform: PlatformConfig
) -> dg.MaterializeResult:
    """What data we use and why: each source's owner, lawful basis, agreement, readers, retention.

    Rendered from the versioned registers as HTML and Markdown, published as an export.
    """
    from exports.format import ExportFile, publish_export
    from vrdp.governance.register import load_register, render_html, render_markdown

    s = platform.resolve()
    reg = load_register(s.governance_dir)
    md, page = render_markdown(reg), render_html(reg)
    files = [
        ExportFile("index.html", len(reg.sources), lambda p: p.write_text(page)),
        ExportFile("transparency.md", len(reg.sources), lambda p: p.write_text(md)),
    ]
    published = publish_export(
        s.exports_dir / TRANSPARENCY_SUBDIR,
        files,
        as_of=f"register-v{reg.version}",
        parameters={"register_version": reg.version, "retention_version": reg.retention_version},
    )
    context.log.info(f"transparency page {published.version} at {published.path}")
    restricted = sorted(n for n, b in reg.sources.items() if b.restricted)
    return dg.MaterializeResult(
        metadata={
            "register_version": reg.version,
            "retention_register_version": reg.retention_version,
            "sources": len(reg.sources),
            "restricted_sources": ", ".join(restricted),
            "page": dg.MetadataValue.path(str(published.path / "index.html")),
            "preview": dg.MetadataValue.md(md[:3000]),
            "version": published.version,
        }
    )
