"""Document rendering: HTML templates to tagged PDF/A-3a with WeasyPrint.

``render_pdf(html)`` lays a document out in a separate worker process that only sees the
portal's own fonts and static files, and is killed when it runs past the time limit.
"""

from portal.pdf.render import PdfRenderError, render_pdf, render_pdf_pages

__all__ = ["PdfRenderError", "render_pdf", "render_pdf_pages"]
