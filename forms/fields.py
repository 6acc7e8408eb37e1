"""Custom fields: Brussels time for <input type="datetime-local">."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wtforms import Field
from wtforms.widgets import DateTimeLocalInput

import brussels


class BrusselsDateTimeField(Field):
    """A time typed in Belgian local time, held as UTC (None when left empty).

    Parsing follows the rules of `brussels` (a time in the spring-forward gap is refused, the
    doubled autumn hour means the first one). A refused value is shown back as typed."""

    widget = DateTimeLocalInput()
    data: datetime | None

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return brussels.to_input(self.data)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        try:
            self.data = brussels.parse_local(str(valuelist[0]))
        except brussels.LocalTimeError as exc:
            self.data = None
            raise ValueError(str(exc)) from None
