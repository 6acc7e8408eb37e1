"""Forms of the accounts pages: log in, register, change the password, API tokens, delete the
account."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, HiddenField, PasswordField, RadioField, StringField
from wtforms.validators import EqualTo

from accounts.services import (
    EMAIL_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    TOKEN_NAME_MAX,
    USERNAME_MAX,
    USERNAME_MIN,
)
from forms.base import TribuneForm, choices_of, length, required
from models import TokenScope
from privacy.deletion import CommentChoice

PASSWORD_RULE_NL = f"Kies een wachtwoord van minstens {PASSWORD_MIN} tekens."


class LoginForm(TribuneForm):
    """Log in by username or e-mail."""

    next = HiddenField()
    login = StringField("Gebruikersnaam of e-mailadres", [required()])
    password = PasswordField("Wachtwoord", [required()])
    remember = BooleanField("Aangemeld blijven")


class RegistrationForm(TribuneForm):
    """A fan's new account. The service checks the rules again (and the ones only it can:
    a name or address already in use)."""

    username = StringField(
        "Gebruikersnaam",
        [
            required(),
            length(
                USERNAME_MIN,
                USERNAME_MAX,
                f"Een gebruikersnaam heeft {USERNAME_MIN} tot {USERNAME_MAX} tekens.",
            ),
        ],
    )
    email = EmailField("E-mailadres", [required(), length(maximum=EMAIL_MAX)])
    password = PasswordField(
        f"Wachtwoord (minstens {PASSWORD_MIN} tekens)",
        [required(PASSWORD_RULE_NL), length(PASSWORD_MIN, PASSWORD_MAX, PASSWORD_RULE_NL)],
    )
    password_repeat = PasswordField(
        "Herhaal je wachtwoord",
        [required(), EqualTo("password", "De wachtwoorden zijn niet gelijk.")],
    )


class PasswordChangeForm(TribuneForm):
    """A new password, confirmed by the current one."""

    current = PasswordField("Huidig wachtwoord", [required()])
    new = PasswordField(
        f"Nieuw wachtwoord (minstens {PASSWORD_MIN} tekens)",
        [required(PASSWORD_RULE_NL), length(PASSWORD_MIN, PASSWORD_MAX, PASSWORD_RULE_NL)],
    )


def _scope_box(scope: TokenScope, default: bool) -> BooleanField:
    return BooleanField(f"{scope.value}: {scope.label_nl}", default=default)


class TokenForm(TribuneForm):
    """A named editor API token and its write scopes (none ticked: it only reads). The
    scopes a CMS needs to register articles and polls start ticked; the rest is opt-in."""

    name = StringField("Naam van de sleutel", [required(), length(1, TOKEN_NAME_MAX)])
    scope_articles = _scope_box(TokenScope.ARTICLES_WRITE, True)
    scope_polls = _scope_box(TokenScope.POLLS_WRITE, True)
    scope_comments = _scope_box(TokenScope.COMMENTS_WRITE, False)
    scope_moderation = _scope_box(TokenScope.MODERATION_WRITE, False)

    SCOPE_FIELDS = {
        TokenScope.ARTICLES_WRITE: "scope_articles",
        TokenScope.POLLS_WRITE: "scope_polls",
        TokenScope.COMMENTS_WRITE: "scope_comments",
        TokenScope.MODERATION_WRITE: "scope_moderation",
    }

    def chosen_scopes(self) -> list[TokenScope]:
        """The ticked scopes."""
        return [scope for scope, name in self.SCOPE_FIELDS.items() if self[name].data]


class ForgotPasswordForm(TribuneForm):
    """Ask for a password-reset link; the answer is the same whether the address is known."""

    email = EmailField("E-mailadres van je account", [required(), length(maximum=EMAIL_MAX)])


class ResetPasswordForm(TribuneForm):
    """A new password through a mailed reset link, twice."""

    password = PasswordField(
        f"Nieuw wachtwoord (minstens {PASSWORD_MIN} tekens)",
        [required(PASSWORD_RULE_NL), length(PASSWORD_MIN, PASSWORD_MAX, PASSWORD_RULE_NL)],
    )
    password_repeat = PasswordField(
        "Herhaal je nieuwe wachtwoord",
        [required(), EqualTo("password", "De wachtwoorden zijn niet gelijk.")],
    )


class EmailChangeForm(TribuneForm):
    """Move the account to another address (confirmed by a link mailed there)."""

    new_email = EmailField("Nieuw e-mailadres", [required(), length(maximum=EMAIL_MAX)])
    password = PasswordField("Je wachtwoord", [required()])


COMMENTS_CHOICE_NL = "Kies wat er met je reacties gebeurt."


class DeleteAccountForm(TribuneForm):
    """Deleting one's own account: the password again, and what becomes of the comments."""

    confirmation = PasswordField("Je wachtwoord", [required("Typ je wachtwoord.")])
    comments = RadioField(
        "Wat gebeurt er met je reacties?",
        choices=choices_of(CommentChoice),
        validators=[required(COMMENTS_CHOICE_NL)],
    )


class DeleteSsoAccountForm(DeleteAccountForm):
    """The same for an account of a news site's single sign-on, which has no password: the
    username, typed exactly, confirms instead."""

    confirmation = StringField(
        "Typ je gebruikersnaam", [required("Typ je gebruikersnaam."), length(maximum=200)]
    )
