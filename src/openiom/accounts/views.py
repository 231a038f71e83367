"""Signing in (password, then a TOTP code if the user has set one up), choosing a role, signing out.

A user with a confirmed authenticator is not logged in until the code is checked: between the two
steps only their id sits in the session, for a few minutes.
"""

from __future__ import annotations

import base64
import time
from typing import Any
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiom.accounts.actor import SESSION_KEY, active_memberships
from openiom.accounts.forms import ChooseRoleForm, CodeForm, SignInForm
from openiom.accounts.services import confirm_totp_device, pending_totp_device
from openiom.audit.services import record

PENDING_USER = "openiom_2fa_user"
PENDING_BACKEND = "openiom_2fa_backend"
PENDING_AT = "openiom_2fa_at"
PENDING_NEXT = "openiom_2fa_next"
PENDING_MAX_AGE = 10 * 60  # seconds between the password and the code
LOCKOUT_STATUS = 429


def _safe_next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def _after_sign_in(request: HttpRequest, user: Any, next_url: str) -> HttpResponse:
    if len(active_memberships(user)) > 1:
        url = reverse("accounts:choose-role")
        return redirect(f"{url}?{urlencode({'next': next_url})}" if next_url else url)
    return redirect(next_url or settings.LOGIN_REDIRECT_URL)


def _confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def _start_pending(request: HttpRequest, user: Any, next_url: str) -> None:
    request.session.cycle_key()
    request.session[PENDING_USER] = user.pk
    request.session[PENDING_BACKEND] = user.backend
    request.session[PENDING_AT] = time.time()
    request.session[PENDING_NEXT] = next_url


def _pending_user(request: HttpRequest) -> Any | None:
    pk = request.session.get(PENDING_USER)
    started = request.session.get(PENDING_AT, 0)
    if pk is None or time.time() - float(started) > PENDING_MAX_AGE:
        return None
    return get_user_model().objects.filter(pk=pk, is_active=True).first()


def _complete_pending(request: HttpRequest, user: Any, device: TOTPDevice) -> HttpResponse:
    backend = request.session.get(PENDING_BACKEND)
    next_url = _safe_next(request, request.session.get(PENDING_NEXT, ""))
    for key in (PENDING_USER, PENDING_BACKEND, PENDING_AT, PENDING_NEXT):
        request.session.pop(key, None)
    login(request, user, backend=backend)
    otp_login(request, device)
    return _after_sign_in(request, user, next_url)


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """The locked-out page; also usable as settings.AXES_LOCKOUT_CALLABLE."""
    return render(
        request,
        "accounts/locked_out.html",
        {
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "cooloff_hours": settings.AXES_COOLOFF_TIME,
        },
        status=LOCKOUT_STATUS,
    )


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    form = SignInForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound and form.is_valid():
        user = authenticate(
            request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
        )
        if getattr(request, "axes_locked_out", False):
            # Our page instead of django-axes' plain-text response.
            request.axes_locked_out = False  # type: ignore[attr-defined]
            return lockout_response(request)
        if user is None:
            form.add_error(None, "Enter a correct username and password")
            status = 400
        elif _confirmed_device(user) is not None:
            _start_pending(request, user, next_url)
            return redirect("accounts:verify-code")
        elif settings.OTP_REQUIRED:
            _start_pending(request, user, next_url)
            return redirect("accounts:two-factor-setup")
        else:
            login(request, user)
            return _after_sign_in(request, user, next_url)
    elif form.is_bound:
        status = 400
    return render(
        request,
        "accounts/sign_in.html",
        {"form": form, "next": next_url, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def verify_code(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    device = _confirmed_device(user) if user is not None else None
    if user is None or device is None:
        messages.info(request, "Sign in again to continue.")
        return redirect("accounts:sign-in")
    form = CodeForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound and form.is_valid():
        allowed, _ = device.verify_is_allowed()
        if allowed and device.verify_token(form.cleaned_data["code"]):
            return _complete_pending(request, user, device)
        _record_code_failure(user)
        form.add_error(
            "code",
            "The code is not correct. Enter the code your authenticator app shows now"
            if allowed
            else "You have entered too many wrong codes. Wait a minute, then try again",
        )
    if form.is_bound:
        status = 400
    return render(request, "accounts/verify_code.html", {"form": form}, status=status)


def _record_code_failure(user: Any) -> None:
    username = user.get_username()
    record(
        "auth.sign_in_failed",
        actor=None,
        username=username,
        context={"username": username},
        details={"username": username, "stage": "two-factor code"},
    )


def _qr_svg(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    svg = image.to_string(encoding="unicode")
    # Sized by CSS; labelled for screen readers (the key is also shown as text).
    svg = svg.replace(' width="', ' data-width="', 1).replace(' height="', ' data-height="', 1)
    return svg.replace(
        "<svg ",
        '<svg role="img" aria-label="QR code to scan with your authenticator app" '
        'focusable="false" ',
        1,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    pending = not request.user.is_authenticated
    user: Any = _pending_user(request) if pending else request.user
    if user is None:
        messages.info(request, "Sign in again to continue.")
        return redirect("accounts:sign-in")
    if _confirmed_device(user) is not None:
        if pending:
            return redirect("accounts:verify-code")
        return render(request, "accounts/two_factor_done.html")
    device = pending_totp_device(user=user)
    form = CodeForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound and form.is_valid():
        allowed, _ = device.verify_is_allowed()
        if allowed and confirm_totp_device(
            user=user, device=device, code=form.cleaned_data["code"]
        ):
            if pending:
                return _complete_pending(request, user, device)
            otp_login(request, device)
            messages.success(request, "Two-factor authentication is set up.")
            return redirect(settings.LOGIN_REDIRECT_URL)
        form.add_error(
            "code",
            "The code is not correct. Enter the code your authenticator app shows now"
            if allowed
            else "You have entered too many wrong codes. Wait a minute, then try again",
        )
    if form.is_bound:
        status = 400
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    context = {
        "form": form,
        "qr_svg": _qr_svg(device.config_url),
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
        "pending": pending,
        "required": settings.OTP_REQUIRED,
    }
    return render(request, "accounts/two_factor_setup.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def choose_role(request: HttpRequest) -> HttpResponse:
    memberships = active_memberships(request.user)
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if len(memberships) < 2:
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    form = ChooseRoleForm(
        request.POST if request.method == "POST" else None,
        memberships=memberships,
        initial={"membership": request.session.get(SESSION_KEY)},
    )
    if form.is_bound and form.is_valid():
        chosen = next(m for m in memberships if m.pk == form.cleaned_data["membership"])
        request.session[SESSION_KEY] = chosen.pk
        messages.success(
            request,
            f"You are acting as {chosen.get_role_display().lower()} for {chosen.agency.name}.",
        )
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    return render(
        request,
        "accounts/choose_role.html",
        {"form": form, "memberships": memberships, "next": next_url},
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
def sign_out(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        if not request.user.is_authenticated:
            return redirect("accounts:sign-in")
        return render(request, "accounts/sign_out.html")
    logout(request)
    messages.success(request, "You have signed out.")
    return redirect(settings.LOGOUT_REDIRECT_URL)
