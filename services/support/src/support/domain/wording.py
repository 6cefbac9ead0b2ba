"""Customer-facing sentences in French and English: dates, answer expectations, next steps."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from support.domain.business_time import as_utc

DAYS = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTHS = {
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip


def long_datetime(moment: datetime, locale: str, tz: ZoneInfo | None = None) -> str:
    """'lundi 12 janvier 2026 à 11 h 30 (GMT)' / 'Monday 12 January 2026 at 11:30 (GMT)'."""
    local = as_utc(moment).astimezone(tz) if tz else as_utc(moment)
    zone_name = tz.key if tz else "GMT"
    day, month = DAYS[locale][local.weekday()], MONTHS[locale][local.month - 1]
    if locale == "fr":
        return f"{day} {local.day} {month} {local.year} à {local.hour} h {local.minute:02d} ({zone_name})"
    return f"{day} {local.day} {month} {local.year} at {local.hour:02d}:{local.minute:02d} ({zone_name})"


EXPECTATIONS = {
    "awaiting_verification": {
        "fr": "Confirmez votre adresse e-mail avec le lien que nous venons de vous envoyer : "
        "votre demande sera alors transmise à nos conseillers.",
        "en": "Confirm your e-mail address with the link we have just sent you: "
        "your request then goes to our advisers.",
    },
    "first_response": {
        "fr": "Un conseiller vous répondra au plus tard le {when}.",
        "en": "An adviser will reply by {when} at the latest.",
    },
    "resolution": {
        "fr": "Nous visons une solution au plus tard le {when}.",
        "en": "We aim to have this solved by {when} at the latest.",
    },
    "overdue": {
        "fr": "Nous avons dépassé le délai annoncé et nous en excusons : votre dossier est traité en priorité.",
        "en": "We are past the time we announced, and we apologise: your case is being handled first.",
    },
    "waiting_on_you": {
        "fr": "Nous attendons votre réponse : le délai de traitement est suspendu jusqu'à ce que vous nous écriviez.",
        "en": "We are waiting for your reply: our clock is stopped until you write back.",
    },
    "resolved": {
        "fr": "Ce dossier est résolu. Vous pouvez le rouvrir en nous écrivant jusqu'au {when}.",
        "en": "This case is resolved. You can reopen it by writing to us until {when}.",
    },
    "closed": {
        "fr": "Ce dossier est clos. Pour un nouveau problème, ouvrez un nouveau dossier en citant sa référence.",
        "en": "This case is closed. For a new problem, open a new case and quote this reference.",
    },
    "hours": {
        "fr": "Nos conseillers répondent du lundi au vendredi, de 8 h à 18 h 30 (GMT), hors jours fériés.",
        "en": "Our advisers answer Monday to Friday, 08:00 to 18:30 GMT, except public holidays.",
    },
}


def expectation_text(kind: str, locale: str, when: datetime | None = None, tz: ZoneInfo | None = None) -> str:
    """The sentence for `kind`, with `when` written out in the customer's language."""
    template = EXPECTATIONS[kind][locale]
    return template.format(when=long_datetime(when, locale, tz) if when else "")


MFA_RESET_NEXT_STEPS = {
    "fr": (
        "Votre demande de réinitialisation de la double authentification est acceptée après nos vérifications "
        "d'identité. Vos méthodes de vérification actuelles vont être retirées de votre compte dans les minutes "
        "qui viennent.\n\n"
        "Ensuite :\n"
        "1. Connectez-vous avec votre adresse e-mail et votre mot de passe habituels.\n"
        "2. Le portail vous demandera aussitôt de choisir une nouvelle méthode : application d'authentification, "
        "SMS ou e-mail.\n"
        "3. Générez de nouveaux codes de secours et rangez-les en lieu sûr : ils vous éviteront d'avoir à nous "
        "recontacter la prochaine fois.\n\n"
        "Vous n'êtes pas à l'origine de cette demande ? Répondez immédiatement à ce dossier."
    ),
    "en": (
        "Your request to reset two-step verification has been approved after our identity checks. Your current "
        "verification methods will be removed from your account within the next few minutes.\n\n"
        "What happens next:\n"
        "1. Sign in with your usual e-mail address and password.\n"
        "2. The portal will ask you straight away to choose a new method: authenticator app, text message "
        "or e-mail.\n"
        "3. Create new recovery codes and keep them somewhere safe, so that next time you will not need to "
        "contact us.\n\n"
        "Did you not ask for this? Reply to this case immediately."
    ),
}
