"""Staff forms. They only parse and present: every rule lives in the service they feed, and a
DomainError from the service comes back onto the form as a Chinese message."""

from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from gridgov.access import lockout
from gridgov.core.clock import now
from gridgov.core.errors import DomainError
from gridgov.core.middleware import client_ip

INVALID_LOGIN = "用户名或密码不正确。"


class LockoutMixin:
    """Refuse a locked name or address before the password is even checked."""

    request: Any
    cleaned_data: dict[str, Any]

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        at = now()
        ip = client_ip(self.request) if self.request is not None else None
        if username and lockout.is_locked(username=username, ip=ip, now=at):
            lockout.record_refused(username=username, now=at)
            raise forms.ValidationError(lockout.LOCKED_MESSAGE, code="locked")
        return super().clean()  # type: ignore[misc,no-any-return]


class LoginForm(LockoutMixin, AuthenticationForm):
    username = forms.CharField(label="用户名", max_length=150, widget=forms.TextInput(attrs={"autofocus": True,
                               "autocomplete": "username"}))
    password = forms.CharField(label="密码", strip=False, widget=forms.PasswordInput(attrs={
        "autocomplete": "current-password"}))
    error_messages = {
        # One message for unknown user and wrong password.
        "invalid_login": INVALID_LOGIN,
        "inactive": "该账号已停用，请联系网格办。",
    }


class SupportLoginForm(LockoutMixin, AdminAuthenticationForm):
    error_messages = {
        "invalid_login": INVALID_LOGIN,
        "inactive": "该账号已停用，请联系网格办。",
    }


def apply_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Put a service's refusal on the field it names, or on the form as a whole."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


class UnitEditForm(forms.Form):
    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    name = forms.CharField(label="名称", max_length=80)
    serial = forms.CharField(label="网格编号", max_length=32, required=False)
    # Kinds, grid types and themes are checked by the service, so an unknown value gets the
    # service's message ("未知的网格类型") rather than a generic choice error.
    grid_type = forms.CharField(label="网格类型", required=False, widget=forms.Select)
    division_code = forms.CharField(label="统计用区划代码（12 位，可不填）", max_length=20, required=False)
    household_estimate = forms.IntegerField(label="户数（估）", required=False, min_value=0, max_value=1_000_000)
    themes = forms.MultipleChoiceField(label="专题网格（多网合一）", required=False,
                                       widget=forms.CheckboxSelectMultiple)
    boundary = forms.CharField(
        label="边界（GeoJSON，可粘贴 Polygon 或 MultiPolygon；留空表示不设边界）", required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, grid_types: list[tuple[str, str]], themes: list[tuple[str, str]],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["grid_type"].widget.choices = [("", "（不设）"), *grid_types]
        # Any posted code reaches the service, which names the unknown one.
        theme_field = cast(forms.MultipleChoiceField, self.fields["themes"])
        theme_field.choices = themes
        theme_field.valid_value = lambda value: True  # type: ignore[method-assign]

    def boundary_value(self) -> Any:
        text = (self.cleaned_data.get("boundary") or "").strip()
        return text or None


class UnitCreateForm(UnitEditForm):
    kind = forms.CharField(label="类型", widget=forms.Select)

    field_order = ["kind", "name", "serial", "grid_type", "division_code", "household_estimate", "themes",
                   "boundary"]

    def __init__(self, *args: Any, kinds: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["expected_version"]
        self.fields["kind"].widget.choices = kinds


class UnitMoveForm(forms.Form):
    new_parent = forms.IntegerField(label="新的上级单位", widget=forms.Select)

    def __init__(self, *args: Any, parents: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_parent"].widget.choices = [("", "请选择"), *parents]
        self.fields["new_parent"].error_messages["required"] = "请选择新的上级单位。"
        self.fields["new_parent"].error_messages["invalid"] = "请选择新的上级单位。"


class GrantForm(forms.Form):
    """Appoint someone at a unit: an existing account by user name, or a new account."""

    MODE_EXISTING = "existing"
    MODE_NEW = "new"

    mode = forms.ChoiceField(label="人员", choices=[(MODE_EXISTING, "已有账号"), (MODE_NEW, "新建账号")],
                             widget=forms.RadioSelect, initial=MODE_EXISTING)
    role = forms.CharField(label="角色", widget=forms.Select)
    title = forms.CharField(label="职务（可不填，默认为角色名称）", max_length=40, required=False)
    department = forms.IntegerField(label="所属部门（部门办理人必填）", required=False, widget=forms.Select)
    username = forms.CharField(label="用户名", max_length=150)
    full_name = forms.CharField(label="姓名（新建账号）", max_length=40, required=False)
    work_phone = forms.RegexField(label="工作电话（新建账号，可不填）", regex=r"^[0-9+\- ]{5,20}$", required=False,
                                  error_messages={"invalid": "电话号码只能包含数字和“-”，5 到 20 位。"})
    password = forms.CharField(label="初始密码（新建账号，至少 8 位，首次登录后须修改）", required=False,
                               strip=False, widget=forms.PasswordInput(render_value=False))

    def __init__(self, *args: Any, roles: list[tuple[str, str]], departments: list[tuple[int, str]],
                 allow_new: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].widget.choices = [("", "请选择"), *roles]
        self.fields["role"].error_messages["required"] = "请选择角色。"
        self.fields["username"].error_messages["required"] = "请填写用户名。"
        self.fields["department"].widget.choices = [("", "（不属于部门）"), *departments]
        if not allow_new:
            cast(forms.ChoiceField, self.fields["mode"]).choices = [(self.MODE_EXISTING, "已有账号")]


class DepartmentForm(forms.Form):
    name = forms.CharField(label="部门名称", max_length=80)
    kind = forms.CharField(label="类别（如 派出所、司法所，可不填）", max_length=40, required=False)
    phone = forms.RegexField(label="联系电话（可不填）", regex=r"^[0-9+\- ]{5,20}$", required=False,
                             error_messages={"invalid": "电话号码只能包含数字和“-”，5 到 20 位。"})


def pretty_geojson(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if value else ""


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label="当前密码", strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    new_password = forms.CharField(label="新密码", strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    new_password_again = forms.CharField(label="再次输入新密码", strip=False,
                                         widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password") and data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", "两次输入的新密码不一致。")
        return data
