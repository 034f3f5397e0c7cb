"""Accounts in the admin: users and groups, limited to the newsroom roles for non-superusers.

Django's own ``UserAdmin`` lets anyone with ``auth.change_user`` tick ``is_superuser`` on
themselves. Here a non-superuser (the Admin role) sees a form with only the account's
details, whether it is active, and one of the three roles; fields it does not show are not
read from the POST, and ``services.accounts.user_save`` refuses any other change.
Superusers keep Django's full form. Groups (what each role may do) are read-only except to
superusers. Must not restate who may manage whom (``roles.user_can_manage``) or how an
account is saved (``services.accounts``).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from . import roles, sign_in
from .forms import RoleUserChangeForm, RoleUserCreationForm
from .services.accounts import user_save

User = get_user_model()

admin.site.login_form = sign_in.AdminLoginForm
admin.site.login_template = "admin/sign_in.html"


class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "is_active", "is_staff")

    role_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Access"), {"fields": ("role", "is_active", "is_staff")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    role_add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2", "role"),
            },
        ),
    )

    def get_fieldsets(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return self.role_fieldsets if obj else self.role_add_fieldsets

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return ("is_staff", "last_login", "date_joined")

    def get_form(self, request, obj=None, **kwargs):
        if not request.user.is_superuser:
            kwargs["form"] = RoleUserChangeForm if obj else RoleUserCreationForm
        return super().get_form(request, obj, **kwargs)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (
            obj is None or roles.user_can_manage(by=request.user, user=obj)
        )

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (
            obj is None or roles.user_can_manage(by=request.user, user=obj)
        )

    def save_model(self, request, obj, form, change):
        if request.user.is_superuser:
            return super().save_model(request, obj, form, change)
        user_save(user=obj, by=request.user, role=form.cleaned_data["role"] or None)


class GroupAdmin(DjangoGroupAdmin):
    """The roles' permissions are set by ``roles.py``; only a superuser changes groups."""

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


for model, model_admin in ((User, UserAdmin), (Group, GroupAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
