"""A list's links built once (the check-in roster's) are exactly the links built one by one.

``portal/row_urls.py`` builds a row's link once and puts each row's id in it; every link is
compared with Flask's own ``url_for`` for the same values: paths, a query typed by the staff
member (spaces, ``&``, the placeholder's own digits), and a placeholder that is ambiguous.
"""

from __future__ import annotations

from flask import Flask, url_for

from portal.row_urls import ROW, url_per_row


def test_links_built_once_are_the_links_built_one_by_one(app: Flask) -> None:
    ids = (1, 42, 90817, 2**31 - 1)
    with app.test_request_context("/"):
        for text in (None, "", "dupont", "a b&c=d", str(ROW), "é/?#"):
            for session_id in (7, ROW):
                cases = [
                    ("staff.mark", {"session_id": session_id, "booking_id": ROW}),
                    ("staff.person_panel", {"session_id": session_id, "booking_id": ROW}),
                    ("staff.checkin_page", {"session_id": session_id, "b": ROW, "q": text}),
                ]
                for endpoint, values in cases:
                    link = url_per_row(endpoint, **values)
                    for row_id in ids:
                        one = {k: (row_id if v == ROW and k != "session_id" else v)
                               for k, v in values.items()}
                        if session_id == ROW:  # ambiguous: every ROW is the row's id
                            one["session_id"] = row_id
                        assert link(row_id) == url_for(endpoint, **one), (endpoint, values)
        for endpoint in ("staff.session_detail", "staff.checkin_page", "staff.attendance_sheet",
                         "staff.session_certificates"):  # the week's rows: the id is the path's
            link = url_per_row(endpoint, session_id=ROW)
            assert [link(i) for i in ids] == [url_for(endpoint, session_id=i) for i in ids]
