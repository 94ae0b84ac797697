from django import forms
from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    username = forms.CharField(label="用户名", max_length=150, widget=forms.TextInput(attrs={"autofocus": True,
                               "autocomplete": "username"}))
    password = forms.CharField(label="密码", strip=False, widget=forms.PasswordInput(attrs={
        "autocomplete": "current-password"}))
    error_messages = {
        # One message for unknown user and wrong password.
        "invalid_login": "用户名或密码不正确。",
        "inactive": "该账号已停用，请联系网格办。",
    }
