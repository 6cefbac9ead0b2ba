"""Knowledge base: full-text search (French and English), topics, our articles, tutorials.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TOPICS = [
    ("account-access", 1, "Accès au compte", "Signing in"),
    ("security", 2, "Sécurité et double authentification", "Security and two-step verification"),
    ("users", 3, "Utilisateurs et droits", "Users and rights"),
    ("company", 4, "Votre entreprise et vos contacts", "Your company and contacts"),
    ("invoicing", 5, "Factures et avoirs", "Invoices and credit notes"),
    ("compliance", 6, "Conformité, TVA et archives", "Compliance, VAT and the archive"),
    ("billing", 7, "Transactions et facturation", "Transactions and billing"),
    ("support", 8, "Assistance", "Getting help"),
]

# (slug, topic, {locale: (title, summary, keywords, body)})
ARTICLES = [
    (
        "forgotten-password",
        "account-access",
        {
            "fr": (
                "Mot de passe oublié : le réinitialiser",
                "Demandez un lien de réinitialisation depuis la page de connexion ; il arrive par e-mail.",
                "mot de passe oublié perdu réinitialiser changer connexion impossible",
                "Sur la page de connexion du portail, choisissez « Mot de passe oublié » et indiquez l'adresse "
                "e-mail qui vous sert d'identifiant. Si elle correspond à un compte, vous recevez en quelques "
                "minutes un lien personnel, valable une heure et utilisable une seule fois. Choisissez alors un "
                "nouveau mot de passe d'au moins 12 caractères : une phrase facile à retenir fonctionne très bien. "
                "Par sécurité, la page affiche le même message que le compte existe ou non. Rien reçu ? Regardez "
                "dans les courriers indésirables, vérifiez l'orthographe de l'adresse, puis réessayez. Si vous "
                "n'avez plus accès à cette boîte e-mail, ouvrez un dossier d'assistance de type « Connexion ».",
            ),
            "en": (
                "Forgotten password: reset it",
                "Ask for a reset link from the sign-in page; it arrives by e-mail.",
                "forgot forgotten lost password reset change cannot sign in log in",
                "On the portal's sign-in page, choose 'Forgot password' and type the e-mail address you sign in "
                "with. If it belongs to an account, a personal link reaches you within minutes; it works once and "
                "for one hour. Pick a new password of at least 12 characters: a sentence you can remember works "
                "well. For your safety the page shows the same message whether or not the account exists. Nothing "
                "arrived? Look in your spam folder, check the spelling of the address and try again. If you can no "
                "longer read that mailbox, open a support case in the 'Signing in' category.",
            ),
        },
    ),
    (
        "forgotten-username",
        "account-access",
        {
            "fr": (
                "Identifiant oublié : retrouver son nom d'utilisateur",
                "Votre identifiant est l'adresse e-mail de votre compte ; un rappel peut vous être envoyé.",
                "identifiant oublié nom d'utilisateur login adresse e-mail compte",
                "Chez Factora, votre identifiant est tout simplement l'adresse e-mail avec laquelle votre compte a "
                "été créé ou à laquelle votre invitation a été envoyée. Vous ne savez plus laquelle ? Choisissez "
                "« Identifiant oublié » sur la page de connexion et saisissez les adresses que vous utilisez : un "
                "rappel part vers celle qui correspond à un compte. Un collègue administrateur de votre entreprise "
                "peut aussi retrouver votre adresse dans la liste des utilisateurs.",
            ),
            "en": (
                "Forgotten username: find the address you sign in with",
                "Your username is your account's e-mail address; we can send you a reminder.",
                "forgot forgotten username login name e-mail address account",
                "At Factora your username is simply the e-mail address your account was created with, or the one "
                "your invitation was sent to. Not sure which one? Choose 'Forgot username' on the sign-in page and "
                "type the addresses you use: a reminder goes to the one that matches an account. An administrator "
                "of your company can also find your address in the list of users.",
            ),
        },
    ),
    (
        "mfa-methods",
        "security",
        {
            "fr": (
                "Double authentification : choisir sa méthode",
                "Application d'authentification, SMS ou e-mail : comment choisir et changer de méthode.",
                "double authentification MFA 2FA code application authentificateur SMS e-mail TOTP sécurité",
                "Après votre mot de passe, Factora vous demande un code à usage unique. Vous choisissez comment le "
                "recevoir : une application d'authentification sur votre téléphone (la plus sûre, elle fonctionne "
                "même sans réseau), un SMS ou un e-mail. Vous pouvez enregistrer plusieurs méthodes et en changer "
                "depuis « Mon profil » > « Sécurité » ; cette modification demande une connexion récente avec votre "
                "second facteur. Un administrateur peut imposer l'application d'authentification à tous les "
                "utilisateurs de l'entreprise. Pensez à générer vos codes de secours : ils vous dépannent si vous "
                "perdez votre téléphone.",
            ),
            "en": (
                "Two-step verification: choosing your method",
                "Authenticator app, text message or e-mail: how to choose and change your method.",
                "two-step verification MFA 2FA multi-factor code authenticator app SMS text e-mail TOTP security",
                "After your password, Factora asks for a one-time code. You choose how it reaches you: an "
                "authenticator app on your phone (the strongest option, and it works without signal), a text "
                "message or an e-mail. You can register several methods and change them under 'My profile' > "
                "'Security'; changing them needs a recent sign-in with your second factor. An administrator can "
                "require the authenticator app for everyone in the company. Create your recovery codes too: they "
                "get you in if you lose your phone.",
            ),
        },
    ),
    (
        "lost-second-factor",
        "security",
        {
            "fr": (
                "J'ai perdu mon téléphone ou mon application d'authentification",
                "Utilisez un code de secours ; sinon, demandez une réinitialisation de la double authentification.",
                "perdu téléphone volé application authentification réinitialiser MFA 2FA code de secours",
                "Sur l'écran qui demande votre code, choisissez « Utiliser un code de secours » et saisissez l'un des "
                "codes que vous avez conservés : chacun ne sert qu'une fois. Une fois connecté, enregistrez une "
                "nouvelle méthode et générez de nouveaux codes. Sans code de secours, ouvrez un dossier de type "
                "« Réinitialisation de la double authentification » depuis la page d'assistance, même sans être "
                "connecté : confirmez votre adresse e-mail avec le lien reçu, puis un conseiller vérifie votre "
                "identité (par exemple en rappelant le numéro connu de votre entreprise ou en contactant votre "
                "administrateur). Après son accord, vos méthodes sont retirées et vous en choisissez une nouvelle "
                "à la connexion suivante.",
            ),
            "en": (
                "I lost my phone or my authenticator app",
                "Use a recovery code; without one, ask for a two-step verification reset.",
                "lost stolen phone authenticator app reset MFA 2FA recovery code",
                "On the screen that asks for your code, choose 'Use a recovery code' and type one of the codes you "
                "kept: each works once. Once signed in, register a new method and create new codes. Without a "
                "recovery code, open a 'Two-step verification reset' case from the help page, even when you cannot "
                "sign in: confirm your e-mail address with the link you receive, then an adviser checks who you are "
                "(for instance by calling back your company's known number or contacting your administrator). Once "
                "approved, your methods are removed and you set up a new one the next time you sign in.",
            ),
        },
    ),
    (
        "collaborators-and-rights",
        "users",
        {
            "fr": (
                "Ajouter des collaborateurs et gérer leurs droits",
                "Invitez vos collègues et donnez à chacun uniquement les droits dont il a besoin.",
                "collaborateur utilisateur inviter ajouter droits permissions rôle équipe",
                "Un administrateur ou un utilisateur ayant le droit de gérer les utilisateurs ouvre « Mon entreprise »"
                " > « Utilisateurs » et choisit « Inviter ». L'invitation part par e-mail ; le collègue choisit son "
                "mot de passe et sa méthode de double authentification. Les droits se cochent un par un : créer et "
                "envoyer des factures, consulter les factures, acheter des transactions, gérer les contacts, gérer "
                "les connexions avec les partenaires, gérer les utilisateurs. Vous pouvez les modifier à tout moment "
                "ou retirer l'accès d'une personne qui quitte l'entreprise ; ses factures restent dans l'historique.",
            ),
            "en": (
                "Adding collaborators and managing their rights",
                "Invite your colleagues and give each of them only the rights they need.",
                "collaborator colleague user invite add rights permissions role team",
                "An administrator, or a user allowed to manage users, opens 'My company' > 'Users' and chooses "
                "'Invite'. The invitation goes out by e-mail; your colleague picks a password and a two-step "
                "verification method. Rights are ticked one by one: create and send invoices, view invoices, buy "
                "transactions, manage contacts, manage partner connections, manage users. You can change them at any "
                "time, or remove access for someone who leaves; their invoices stay in the history.",
            ),
        },
    ),
    (
        "admin-transfer",
        "users",
        {
            "fr": (
                "Transférer les droits d'administrateur à un collègue",
                "Seul l'administrateur actuel peut passer la main ; voici comment faire.",
                "transférer transfert administrateur admin droits changer d'administrateur passer la main",
                "L'administrateur est la personne qui gère le compte de l'entreprise. Pour confier ce rôle à un "
                "collègue, l'administrateur actuel se connecte avec son propre compte (personne d'autre ne peut le "
                "faire), ouvre « Mon entreprise » > « Utilisateurs », choisit le collègue puis « Transférer les "
                "droits d'administrateur ». Par sécurité, une connexion récente avec le second facteur est demandée "
                "et les deux personnes reçoivent un e-mail de confirmation. Le collègue doit déjà avoir un compte "
                "actif : invitez-le d'abord si besoin. L'administrateur est parti sans transférer ses droits ? "
                "Ouvrez un dossier d'assistance : nous vérifierons avec un représentant de l'entreprise.",
            ),
            "en": (
                "Transfer admin rights to a colleague",
                "Only the current administrator can hand over the role; here is how.",
                "transfer handover change administrator admin rights owner role",
                "The administrator is the person who runs your company's account. To hand the admin rights to a "
                "colleague, the current administrator signs in with their own account (nobody else can do it), "
                "opens 'My company' > 'Users', picks the colleague and chooses 'Transfer admin rights'. For safety "
                "a recent sign-in with the second factor is required and both people get a confirmation e-mail. "
                "The colleague must already have an active account: invite them first if needed. Has the "
                "administrator left without transferring the role? Open a support case and we will check with a "
                "representative of the company.",
            ),
        },
    ),
    (
        "company-contacts",
        "company",
        {
            "fr": (
                "Gérer les contacts de votre entreprise",
                "Qui reçoit les factures, les relances et les alertes : tout se règle dans « Contacts ».",
                "contacts entreprise adresse e-mail destinataire factures comptabilité gérer",
                "Ouvrez « Mon entreprise » > « Contacts » pour voir les personnes et les adresses que Factora "
                "utilise pour votre entreprise : réception des factures, comptabilité, facturation Factora, "
                "questions techniques. Ajoutez un contact, changez son adresse ou son rôle, ou retirez-le. Gardez "
                "au moins un contact pour la réception des factures : c'est lui que vos fournisseurs et nos avis de "
                "livraison atteignent. Il faut le droit « Gérer les contacts » pour ces modifications.",
            ),
            "en": (
                "Managing your company's contacts",
                "Who receives invoices, reminders and alerts: it is all set under 'Contacts'.",
                "contacts company e-mail address recipient invoices accounts payable manage",
                "Open 'My company' > 'Contacts' to see the people and addresses Factora uses for your company: "
                "receiving invoices, accounts, Factora billing, technical questions. Add a contact, change an "
                "address or a role, or remove a contact. Keep at least one contact for incoming invoices: that is "
                "where your suppliers' invoices and our delivery notices go. Changing contacts needs the 'Manage "
                "contacts' right.",
            ),
        },
    ),
    (
        "several-buyers",
        "invoicing",
        {
            "fr": (
                "Travailler avec plusieurs acheteurs",
                "Une seule adhésion suffit pour facturer autant de clients que vous voulez.",
                "plusieurs acheteurs clients relation commerciale connexion fournisseur réseau",
                "Votre adhésion couvre toutes vos relations commerciales : vous pouvez facturer autant d'acheteurs "
                "du réseau que nécessaire. Chaque acheteur apparaît dans « Connexions » une fois la relation "
                "établie, avec ses propres exigences éventuelles (bon de commande obligatoire, adresse de "
                "facturation). Un client n'est pas encore sur Factora ? Invitez-le depuis la même page : il reçoit "
                "vos factures par e-mail en attendant de nous rejoindre.",
            ),
            "en": (
                "Working with several buyers",
                "One membership is enough to invoice as many customers as you like.",
                "several many buyers customers trading relationship connection supplier network",
                "Your membership covers all your trading relationships: invoice as many buyers on the network as "
                "you need. Each buyer appears under 'Connections' once the relationship is set up, with any rules "
                "of its own (purchase order required, billing address). A customer is not on Factora yet? Invite "
                "them from the same page: they receive your invoices by e-mail until they join.",
            ),
        },
    ),
    (
        "cross-border-invoicing",
        "compliance",
        {
            "fr": (
                "Facturer à l'étranger",
                "Envoyez vos factures transfrontalières comme les autres : les règles des deux pays sont appliquées.",
                "étranger international transfrontalier export intracommunautaire autoliquidation pays devise",
                "Le réseau relie des entreprises de nombreux pays : une facture vers un client étranger s'envoie "
                "exactement comme une facture nationale. Avant l'émission, Factora applique les règles des deux pays "
                "concernés : numéro de TVA de chaque partie, mentions obligatoires, autoliquidation pour les "
                "ventes entre entreprises au sein de l'Union européenne, exonération pour les exportations. Si "
                "quelque chose manque, la facture est refusée avec la règle en cause et la correction à apporter. "
                "Vous pouvez facturer dans la devise convenue avec votre client.",
            ),
            "en": (
                "Invoicing customers abroad",
                "Send cross-border invoices like any other: the rules of both countries are applied.",
                "abroad international cross-border export intra-EU reverse charge country currency",
                "The network links companies in many countries: an invoice to a customer abroad is sent exactly like "
                "a domestic one. Before issuing it, Factora applies the rules of both countries: each party's VAT "
                "number, mandatory mentions, reverse charge for business sales inside the European Union, "
                "exemption for exports. If something is missing the invoice is refused, naming the rule and the "
                "fix. You can invoice in the currency agreed with your customer.",
            ),
        },
    ),
    (
        "vat-compliance",
        "compliance",
        {
            "fr": (
                "Conformité TVA et fiscale des factures électroniques",
                "Chaque facture est contrôlée selon la norme européenne et les règles de TVA des pays concernés.",
                "TVA conformité fiscale réglementation norme EN 16931 mentions obligatoires taux contrôle",
                "Chaque facture suit la norme européenne de facturation électronique EN 16931 et les règles de TVA "
                "des pays des deux parties : taux applicables, catégories d'exonération, totaux cohérents, mentions "
                "obligatoires. Les contrôles ont lieu avant l'émission ; une facture non conforme n'est jamais "
                "envoyée, et le rapport indique la règle, le champ et la correction. Nous couvrons l'Union "
                "européenne, le Royaume-Uni, l'Amérique du Nord et plusieurs pays d'Asie-Pacifique ; les règles "
                "sont mises à jour quand la loi change.",
            ),
            "en": (
                "VAT and tax compliance of e-invoices",
                "Every invoice is checked against the European standard and the VAT rules of the countries involved.",
                "VAT tax compliance regulation standard EN 16931 mandatory mentions rates checks",
                "Every invoice follows the European e-invoicing standard EN 16931 and the VAT rules of both parties' "
                "countries: applicable rates, exemption categories, consistent totals, mandatory mentions. The "
                "checks run before the invoice is issued; a non-compliant invoice is never sent, and the report "
                "names the rule, the field and the fix. We cover the European Union, the United Kingdom, North "
                "America and several Asia-Pacific countries, and update the rules when the law changes.",
            ),
        },
    ),
    (
        "signed-pdf-and-archive",
        "compliance",
        {
            "fr": (
                "Le PDF signé et l'archive",
                "Chaque facture est scellée dans un PDF signé qui contient ses données, et archivée 24 h/24.",
                "PDF signé signature électronique sceau archive archivage conservation Factur-X télécharger",
                "Une fois émise, chaque facture devient un PDF/A-3 scellé électroniquement qui contient aussi ses "
                "données structurées (Factur-X). Ce document fait foi pour l'administration fiscale : l'acheteur "
                "comme le fournisseur peuvent s'en servir pour leurs contrôles et leurs audits. Il est conservé "
                "dans notre archive, consultable à toute heure par les deux parties, pendant la durée légale du "
                "pays. Vous pouvez aussi le télécharger pour votre propre archivage ; le sceau permet de vérifier "
                "qu'il n'a pas été modifié.",
            ),
            "en": (
                "The signed PDF and the archive",
                "Every invoice is sealed in a signed PDF carrying its data, and archived around the clock.",
                "signed PDF electronic signature seal archive retention storage Factur-X download",
                "Once issued, each invoice becomes an electronically sealed PDF/A-3 that also carries its structured "
                "data (Factur-X). This document is the one tax authorities rely on: buyer and supplier can both use "
                "it for controls and audits. It is kept in our archive, open to both parties at any hour, for the "
                "legal retention period of the country. You can also download it for your own records; the seal "
                "shows whether it was altered.",
            ),
        },
    ),
    (
        "delete-or-credit-invoice",
        "invoicing",
        {
            "fr": (
                "Supprimer une facture ou émettre un avoir ?",
                "Pour annuler une facture envoyée, émettez un avoir plutôt que de la retirer.",
                "supprimer annuler retirer facture avoir note de crédit erreur corriger",
                "Une facture envoyée fait partie de la comptabilité de votre client : la retirer efface ses "
                "données chez l'acheteur et crée de la confusion des deux côtés. Pour corriger une erreur ou annuler "
                "une vente, émettez un avoir qui fait référence à la facture, pour tout ou partie du montant ; il ne "
                "peut jamais dépasser ce qui reste dû. Le retrait reste possible dans de rares cas (facture envoyée "
                "au mauvais client, par exemple) : le portail vous avertit alors et l'archive garde ce que la loi "
                "impose de conserver.",
            ),
            "en": (
                "Delete an invoice or issue a credit note?",
                "To cancel an invoice you sent, issue a credit note rather than withdrawing it.",
                "delete cancel withdraw invoice credit note mistake correct",
                "An invoice you sent is part of your customer's books: withdrawing it removes its data on the "
                "buyer's side and confuses both of you. To fix a mistake or cancel a sale, issue a credit note that "
                "refers to the invoice, for all or part of the amount; it can never exceed what is left. "
                "Withdrawal is still possible in rare cases (an invoice sent to the wrong customer, say): the "
                "portal warns you first, and the archive keeps what the law requires.",
            ),
        },
    ),
    (
        "buying-transactions",
        "billing",
        {
            "fr": (
                "Acheter des transactions",
                "Chaque facture émise consomme une transaction ; rechargez votre solde depuis « Facturation ».",
                "acheter transactions crédits solde paiement recharger facturation prix",
                "Chaque facture ou avoir émis consomme une transaction. Votre solde apparaît dans le menu "
                "« Facturation », à côté de « Créer une facture ». Pour le recharger, choisissez « Acheter des "
                "transactions », sélectionnez un pack et payez ; le solde est crédité dès la confirmation du "
                "paiement et un reçu vous est envoyé. Nous vous prévenons par e-mail quand le solde devient bas. Il "
                "faut le droit « Facturation » pour acheter.",
            ),
            "en": (
                "Buying transactions",
                "Each invoice you issue uses one transaction; top up your balance from 'Billing'.",
                "buy purchase transactions credits balance payment top up billing price",
                "Every invoice or credit note you issue uses one transaction. Your balance is shown in the 'Billing' "
                "menu, next to 'Create invoice'. To top it up, choose 'Buy transactions', pick a pack and pay; the "
                "balance is credited as soon as the payment is confirmed and a receipt is e-mailed to you. We warn "
                "you by e-mail when the balance runs low. Buying needs the 'Billing' right.",
            ),
        },
    ),
    (
        "opening-a-support-case",
        "support",
        {
            "fr": (
                "Ouvrir un dossier d'assistance et suivre sa réponse",
                "Décrivez votre problème, joignez une capture si besoin : nous vous disons quand attendre la réponse.",
                "assistance support dossier demande contacter conseiller délai réponse horaires",
                "Depuis la page d'assistance, choisissez la catégorie qui correspond à votre problème et décrivez-le "
                "en détail : ce que vous faisiez, le message affiché, la référence de la facture concernée. Vous "
                "pouvez joindre des captures d'écran, des PDF ou des fichiers XML. Chaque dossier reçoit une "
                "référence (SUP-2026-000123 par exemple) et la page du dossier indique quand attendre une réponse. "
                "Nos conseillers travaillent du lundi au vendredi de 8 h à 18 h 30 (GMT), hors jours fériés ; "
                "quand ils attendent une information de votre part, le délai est suspendu. Vous ne pouvez pas vous "
                "connecter ? Ouvrez le dossier avec votre adresse e-mail : un lien de confirmation vous est envoyé.",
            ),
            "en": (
                "Opening a support case and following the answer",
                "Describe your problem, attach a screenshot if useful: we tell you when to expect an answer.",
                "support help case request contact adviser response time opening hours",
                "From the help page, choose the category that fits your problem and describe it in detail: what you "
                "were doing, the message shown, the reference of the invoice involved. You can attach screenshots, "
                "PDFs or XML files. Each case gets a reference (SUP-2026-000123, for example) and its page tells you "
                "when to expect an answer. Our advisers work Monday to Friday, 08:00 to 18:30 GMT, except public "
                "holidays; while they wait for information from you, the clock stops. Cannot sign in? Open the case "
                "with your e-mail address: we send you a confirmation link.",
            ),
        },
    ),
]

# Articles of the first migration: give them a topic, a summary and search keywords.
EXISTING = {
    ("sending-an-invoice", "fr"): (
        "invoicing",
        "Contrôle, numérotation, scellement, archivage et avis au client.",
        "envoyer facture parcours émission numéro validation",
    ),
    ("sending-an-invoice", "en"): (
        "invoicing",
        "Checks, numbering, sealing, archiving and notice to your customer.",
        "send invoice journey issue number validation",
    ),
}

# (slug, topic, position, video_url, {locale: (title, summary, [steps])})
TUTORIALS = [
    (
        "set-up-two-step-verification",
        "security",
        1,
        "https://videos.factora.example/tutorials/two-step-verification.mp4",
        {
            "fr": (
                "Activer la double authentification",
                "Protégez votre compte en trois minutes avec une application d'authentification.",
                [
                    "Installez une application d'authentification sur votre téléphone.",
                    "Dans le portail, ouvrez « Mon profil » > « Sécurité » et choisissez « Application ».",
                    "Scannez le QR code affiché avec l'application.",
                    "Saisissez le code à six chiffres que l'application affiche pour confirmer.",
                    "Téléchargez vos codes de secours et rangez-les hors de votre téléphone.",
                ],
            ),
            "en": (
                "Turning on two-step verification",
                "Protect your account in three minutes with an authenticator app.",
                [
                    "Install an authenticator app on your phone.",
                    "In the portal, open 'My profile' > 'Security' and choose 'Authenticator app'.",
                    "Scan the QR code shown with the app.",
                    "Type the six-digit code the app shows to confirm.",
                    "Download your recovery codes and keep them away from your phone.",
                ],
            ),
        },
    ),
    (
        "invite-a-collaborator",
        "users",
        1,
        None,
        {
            "fr": (
                "Inviter un collaborateur",
                "Donnez accès au portail à un collègue avec les bons droits.",
                [
                    "Ouvrez « Mon entreprise » > « Utilisateurs ».",
                    "Choisissez « Inviter » et saisissez l'adresse e-mail professionnelle du collègue.",
                    "Cochez les droits dont il a besoin, et seulement ceux-là.",
                    "Envoyez l'invitation : le collègue choisit son mot de passe depuis l'e-mail reçu.",
                ],
            ),
            "en": (
                "Inviting a collaborator",
                "Give a colleague access to the portal with the right permissions.",
                [
                    "Open 'My company' > 'Users'.",
                    "Choose 'Invite' and type your colleague's work e-mail address.",
                    "Tick the rights they need, and only those.",
                    "Send the invitation: your colleague sets a password from the e-mail they receive.",
                ],
            ),
        },
    ),
    (
        "transfer-the-admin-role",
        "users",
        2,
        "https://videos.factora.example/tutorials/transfer-admin.mp4",
        {
            "fr": (
                "Transférer le rôle d'administrateur",
                "Passez la main à un collègue avant un départ ou un changement d'organisation.",
                [
                    "Connectez-vous avec le compte de l'administrateur actuel.",
                    "Ouvrez « Mon entreprise » > « Utilisateurs » et choisissez le collègue.",
                    "Choisissez « Transférer les droits d'administrateur ».",
                    "Confirmez avec votre second facteur : vous recevez tous les deux un e-mail.",
                ],
            ),
            "en": (
                "Handing over the admin role",
                "Pass the role to a colleague before you leave or when the organisation changes.",
                [
                    "Sign in with the current administrator's account.",
                    "Open 'My company' > 'Users' and pick the colleague.",
                    "Choose 'Transfer admin rights'.",
                    "Confirm with your second factor: you both receive an e-mail.",
                ],
            ),
        },
    ),
    (
        "send-your-first-invoice",
        "invoicing",
        1,
        "https://videos.factora.example/tutorials/first-invoice.mp4",
        {
            "fr": (
                "Envoyer votre première facture",
                "De la saisie à l'avis de livraison, en suivant les contrôles.",
                [
                    "Ouvrez « Facturation » > « Créer une facture ».",
                    "Choisissez l'acheteur parmi vos connexions.",
                    "Ajoutez les lignes : description, quantité, prix unitaire, taux de TVA.",
                    "Vérifiez le récapitulatif puis choisissez « Émettre ».",
                    "Suivez l'état de la facture jusqu'à « Livrée » : le PDF signé est alors dans l'archive.",
                ],
            ),
            "en": (
                "Sending your first invoice",
                "From typing it in to the delivery notice, checks included.",
                [
                    "Open 'Billing' > 'Create invoice'.",
                    "Pick the buyer from your connections.",
                    "Add the lines: description, quantity, unit price, VAT rate.",
                    "Check the summary, then choose 'Issue'.",
                    "Follow the invoice until it shows 'Delivered': the signed PDF is then in the archive.",
                ],
            ),
        },
    ),
    (
        "issue-a-credit-note",
        "invoicing",
        2,
        None,
        {
            "fr": (
                "Émettre un avoir",
                "Annulez tout ou partie d'une facture envoyée sans la supprimer.",
                [
                    "Ouvrez la facture à corriger dans « Factures envoyées ».",
                    "Choisissez « Créer un avoir ».",
                    "Gardez toutes les lignes pour un avoir total, ou ajustez les quantités pour un avoir partiel.",
                    "Émettez l'avoir : il est envoyé à l'acheteur et référence la facture d'origine.",
                ],
            ),
            "en": (
                "Issuing a credit note",
                "Cancel all or part of an invoice you sent without deleting it.",
                [
                    "Open the invoice to correct under 'Sent invoices'.",
                    "Choose 'Create credit note'.",
                    "Keep every line for a full credit, or lower the quantities for a partial one.",
                    "Issue the credit note: it goes to the buyer and refers to the original invoice.",
                ],
            ),
        },
    ),
    (
        "buy-transactions",
        "billing",
        1,
        None,
        {
            "fr": (
                "Acheter des transactions",
                "Rechargez votre solde pour continuer à émettre des factures.",
                [
                    "Ouvrez « Facturation » > « Acheter des transactions ».",
                    "Choisissez un pack.",
                    "Payez : le solde est crédité dès la confirmation.",
                    "Retrouvez le reçu dans vos e-mails et dans l'historique des achats.",
                ],
            ),
            "en": (
                "Buying transactions",
                "Top up your balance to keep issuing invoices.",
                [
                    "Open 'Billing' > 'Buy transactions'.",
                    "Pick a pack.",
                    "Pay: the balance is credited as soon as the payment is confirmed.",
                    "Find the receipt in your e-mail and in the purchase history.",
                ],
            ),
        },
    ),
    (
        "manage-contacts",
        "company",
        1,
        None,
        {
            "fr": (
                "Mettre à jour vos contacts",
                "Assurez-vous que les factures et les alertes arrivent aux bonnes personnes.",
                [
                    "Cliquez sur le nom de votre entreprise en haut de l'écran.",
                    "Ouvrez « Mon entreprise » > « Contacts ».",
                    "Ajoutez, modifiez ou retirez un contact et choisissez son rôle.",
                    "Gardez au moins un contact pour la réception des factures.",
                ],
            ),
            "en": (
                "Updating your contacts",
                "Make sure invoices and alerts reach the right people.",
                [
                    "Click your company's name at the top of the screen.",
                    "Open 'My company' > 'Contacts'.",
                    "Add, edit or remove a contact and choose its role.",
                    "Keep at least one contact for incoming invoices.",
                ],
            ),
        },
    ),
    (
        "open-a-support-case",
        "support",
        1,
        None,
        {
            "fr": (
                "Ouvrir un dossier d'assistance",
                "Obtenez de l'aide, même si vous ne pouvez pas vous connecter.",
                [
                    "Ouvrez la page « Assistance » et choisissez la catégorie de votre problème.",
                    "Décrivez ce qui se passe, avec les messages affichés et les références utiles.",
                    "Joignez une capture d'écran ou un PDF si cela aide à comprendre.",
                    "Sans connexion : confirmez votre adresse avec le lien reçu par e-mail.",
                    "Suivez le dossier depuis sa page : elle indique quand attendre la réponse.",
                ],
            ),
            "en": (
                "Opening a support case",
                "Get help, even when you cannot sign in.",
                [
                    "Open the 'Help' page and choose the category of your problem.",
                    "Describe what happens, with the messages shown and any useful references.",
                    "Attach a screenshot or a PDF if it helps.",
                    "Not signed in: confirm your address with the link you receive by e-mail.",
                    "Follow the case from its page: it tells you when to expect the answer.",
                ],
            ),
        },
    ),
]


def upgrade() -> None:
    # Accent-insensitive copies of the built-in French and English configurations: people type
    # "reinitialiser" as often as "réinitialiser". unaccent is a trusted extension (PostgreSQL 13+),
    # so the database owner can create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    for name, base in (("support_french", "french"), ("support_english", "english")):
        op.execute(f"CREATE TEXT SEARCH CONFIGURATION {name} (COPY = pg_catalog.{base})")
        op.execute(
            f"ALTER TEXT SEARCH CONFIGURATION {name} "
            f"ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {base}_stem"
        )

    topics = op.create_table(
        "kb_topic",
        sa.Column("code", sa.String(), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label_fr", sa.String(), nullable=False),
        sa.Column("label_en", sa.String(), nullable=False),
    )
    op.bulk_insert(topics, [dict(zip(("code", "position", "label_fr", "label_en"), t)) for t in TOPICS])

    op.add_column("kb_article", sa.Column("topic", sa.String(), nullable=False, server_default="invoicing"))
    op.add_column("kb_article", sa.Column("summary", sa.String(), nullable=False, server_default=""))
    op.add_column("kb_article", sa.Column("keywords", sa.String(), nullable=False, server_default=""))
    op.create_foreign_key("fk_kb_article_topic", "kb_article", "kb_topic", ["topic"], ["code"])
    articles = sa.table(
        "kb_article",
        sa.column("slug"),
        sa.column("locale"),
        sa.column("title"),
        sa.column("body"),
        sa.column("topic"),
        sa.column("summary"),
        sa.column("keywords"),
    )
    for (slug, locale), (topic, summary, keywords) in EXISTING.items():
        op.execute(
            articles.update()
            .where(articles.c.slug == slug, articles.c.locale == locale)
            .values(topic=topic, summary=summary, keywords=keywords)
        )
    op.execute(articles.delete().where(articles.c.slug.in_([a[0] for a in ARTICLES])))
    op.bulk_insert(
        articles,
        [
            {
                "slug": slug,
                "locale": locale,
                "topic": topic,
                "title": title,
                "summary": summary,
                "keywords": keywords,
                "body": body,
            }
            for slug, topic, texts in ARTICLES
            for locale, (title, summary, keywords, body) in texts.items()
        ],
    )
    op.execute(
        "ALTER TABLE kb_article ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
        "CASE WHEN locale = 'fr' THEN "
        "setweight(to_tsvector('support_french'::regconfig, coalesce(title, '')), 'A') || "
        "setweight(to_tsvector('support_french'::regconfig, coalesce(keywords, '')), 'B') || "
        "setweight(to_tsvector('support_french'::regconfig, coalesce(summary, '')), 'B') || "
        "setweight(to_tsvector('support_french'::regconfig, coalesce(body, '')), 'C') "
        "ELSE "
        "setweight(to_tsvector('support_english'::regconfig, coalesce(title, '')), 'A') || "
        "setweight(to_tsvector('support_english'::regconfig, coalesce(keywords, '')), 'B') || "
        "setweight(to_tsvector('support_english'::regconfig, coalesce(summary, '')), 'B') || "
        "setweight(to_tsvector('support_english'::regconfig, coalesce(body, '')), 'C') END) STORED"
    )
    op.create_index("ix_kb_article_search", "kb_article", ["search_vector"], postgresql_using="gin")

    tutorials = op.create_table(
        "tutorial",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("slug", sa.String(), nullable=False),
        sa.Column("locale", sa.String(2), nullable=False),
        sa.Column("topic", sa.String(), sa.ForeignKey("kb_topic.code"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("summary", sa.String(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("video_url", sa.String(), nullable=True),
        sa.UniqueConstraint("slug", "locale"),
    )
    op.bulk_insert(
        tutorials,
        [
            {
                "slug": slug,
                "locale": locale,
                "topic": topic,
                "position": position,
                "title": title,
                "summary": summary,
                "steps": steps,
                "video_url": video,
            }
            for slug, topic, position, video, texts in TUTORIALS
            for locale, (title, summary, steps) in texts.items()
        ],
    )


def downgrade() -> None:
    op.drop_table("tutorial")
    op.drop_index("ix_kb_article_search", table_name="kb_article")
    op.drop_column("kb_article", "search_vector")
    op.drop_constraint("fk_kb_article_topic", "kb_article", type_="foreignkey")
    for column in ("keywords", "summary", "topic"):
        op.drop_column("kb_article", column)
    op.drop_table("kb_topic")
    op.execute("DROP TEXT SEARCH CONFIGURATION support_english")
    op.execute("DROP TEXT SEARCH CONFIGURATION support_french")
