"""What each rule means for the person fixing the invoice, in French and English.

Keys are rule ids (BR-16) or, where several rules share one text, a family key (BR-X-05) that
the finding names. Placeholders in braces are filled from the finding's parameters.
"""

from __future__ import annotations

from typing import Any

LOCALES = ("fr", "en")

TEXTS: dict[str, dict[str, str]] = {
    "BR-5": {
        "en": "Give the currency as an ISO 4217 code in capitals, for example EUR.",
        "fr": "Indiquez la devise par son code ISO 4217 en majuscules, par exemple EUR.",
    },
    "BR-6": {"en": "Give the seller's legal name.", "fr": "Indiquez la raison sociale du vendeur."},
    "BR-7": {"en": "Give the buyer's legal name.", "fr": "Indiquez la raison sociale de l'acheteur."},
    "BR-8": {
        "en": "The seller's postal address needs a street, a city and a post code.",
        "fr": "L'adresse du vendeur doit comporter une rue, une ville et un code postal.",
    },
    "BR-9": {
        "en": "Give the seller's country as a two-letter ISO code, for example FR.",
        "fr": "Indiquez le pays du vendeur par son code ISO à deux lettres, par exemple FR.",
    },
    "BR-10": {
        "en": "The buyer's postal address needs a street, a city and a post code.",
        "fr": "L'adresse de l'acheteur doit comporter une rue, une ville et un code postal.",
    },
    "BR-11": {
        "en": "Give the buyer's country as a two-letter ISO code, for example BE.",
        "fr": "Indiquez le pays de l'acheteur par son code ISO à deux lettres, par exemple BE.",
    },
    "BR-16": {
        "en": "An invoice needs at least one line: add the goods or services invoiced.",
        "fr": "Une facture doit comporter au moins une ligne : ajoutez les biens ou services facturés.",
    },
    "BR-23": {
        "en": "Give the unit of measure of the line, for example C62 (unit) or HUR (hour).",
        "fr": "Indiquez l'unité de mesure de la ligne, par exemple C62 (unité) ou HUR (heure).",
    },
    "BR-25": {
        "en": "Give the name of the item or service on this line.",
        "fr": "Indiquez le nom de l'article ou du service de cette ligne.",
    },
    "BR-27": {
        "en": "The item net price cannot be negative: lower the quantity or issue a credit note.",
        "fr": "Le prix net de l'article ne peut pas être négatif : réduisez la quantité ou émettez un avoir.",
    },
    "BR-31": {
        "en": "Give the amount of this document-level allowance (or a percentage).",
        "fr": "Indiquez le montant de cette remise globale (ou un pourcentage).",
    },
    "BR-32": {
        "en": "Give the VAT category of this document-level allowance, for example S.",
        "fr": "Indiquez la catégorie de TVA de cette remise globale, par exemple S.",
    },
    "BR-33": {
        "en": "Say why this allowance is granted (a reason or a reason code).",
        "fr": "Indiquez le motif de cette remise (en clair ou par un code).",
    },
    "BR-36": {
        "en": "Give the amount of this document-level charge (or a percentage).",
        "fr": "Indiquez le montant de ces frais globaux (ou un pourcentage).",
    },
    "BR-37": {
        "en": "Give the VAT category of this document-level charge, for example S.",
        "fr": "Indiquez la catégorie de TVA de ces frais globaux, par exemple S.",
    },
    "BR-38": {
        "en": "Say what this charge is for (a reason or a reason code).",
        "fr": "Indiquez l'objet de ces frais (en clair ou par un code).",
    },
    "BR-41": {
        "en": "Give the amount of this line allowance (or a percentage).",
        "fr": "Indiquez le montant de cette remise sur ligne (ou un pourcentage).",
    },
    "BR-42": {
        "en": "Say why this line allowance is granted (a reason or a reason code).",
        "fr": "Indiquez le motif de cette remise sur ligne (en clair ou par un code).",
    },
    "BR-43": {
        "en": "Give the amount of this line charge (or a percentage).",
        "fr": "Indiquez le montant de ces frais sur ligne (ou un pourcentage).",
    },
    "BR-44": {
        "en": "Say what this line charge is for (a reason or a reason code).",
        "fr": "Indiquez l'objet de ces frais sur ligne (en clair ou par un code).",
    },
    "BR-49": {
        "en": "Give the payment means as a UNTDID 4461 code, for example 58 for a SEPA credit transfer.",
        "fr": "Indiquez le moyen de paiement par un code UNTDID 4461, par exemple 58 pour un virement SEPA.",
    },
    "BR-61": {
        "en": "A credit transfer needs the account to pay into: give the IBAN or account number.",
        "fr": "Un virement nécessite le compte à créditer : indiquez l'IBAN ou le numéro de compte.",
    },
    "BR-CO-9": {
        "en": "A VAT identifier starts with the two-letter code of the country that issued it, for example FR or EL.",
        "fr": "Un numéro de TVA commence par le code à deux lettres du pays qui l'a attribué, par exemple FR ou EL.",
    },
    "BR-CO-10": {
        "en": "The sum of line net amounts is {found}, but the lines add up to {expected}.",
        "fr": "La somme des montants nets des lignes vaut {found}, alors que les lignes totalisent {expected}.",
    },
    "BR-CO-11": {
        "en": "The sum of allowances is {found}, but the allowances add up to {expected}.",
        "fr": "Le total des remises vaut {found}, alors que les remises totalisent {expected}.",
    },
    "BR-CO-12": {
        "en": "The sum of charges is {found}, but the charges add up to {expected}.",
        "fr": "Le total des frais vaut {found}, alors que les frais totalisent {expected}.",
    },
    "BR-CO-13": {
        "en": "The total without VAT should be {expected} (lines - allowances + charges), not {found}.",
        "fr": "Le total hors TVA devrait être {expected} (lignes - remises + frais), et non {found}.",
    },
    "BR-CO-14": {
        "en": "The total VAT should be {expected} (the sum of the VAT breakdown), not {found}.",
        "fr": "Le total de TVA devrait être {expected} (la somme du détail de TVA), et non {found}.",
    },
    "BR-CO-15": {
        "en": "The total with VAT should be {expected} (total without VAT + VAT), not {found}.",
        "fr": "Le total TTC devrait être {expected} (total hors TVA + TVA), et non {found}.",
    },
    "BR-CO-16": {
        "en": "The amount due should be {expected} (total with VAT - amount already paid), not {found}.",
        "fr": "Le montant à payer devrait être {expected} (total TTC - acompte versé), et non {found}.",
    },
    "BR-CO-17": {
        "en": "The VAT of the {category} {rate} % row should be {expected} (taxable amount x rate), not {found}.",
        "fr": "La TVA de la ligne {category} {rate} % devrait être {expected} (base x taux), et non {found}.",
    },
    "BR-X-08": {
        "en": "The taxable amount of the {category} {rate} % row should be {expected}, not {found}.",
        "fr": "La base imposable de la ligne {category} {rate} % devrait être {expected}, et non {found}.",
    },
    "BR-CO-25": {
        "en": "An amount is due: give the due date or the payment terms.",
        "fr": "Un montant est dû : indiquez la date d'échéance ou les conditions de paiement.",
    },
    "BR-S-02": {
        "en": "Standard-rated invoices need the seller's VAT identifier.",
        "fr": "Une facture soumise au taux normal doit porter le numéro de TVA du vendeur.",
    },
    "BR-X-02-SELLER": {
        "en": "Category {category} ({category_name}) needs the seller's VAT identifier.",
        "fr": "La catégorie {category} ({category_name}) exige le numéro de TVA du vendeur.",
    },
    "BR-AE-02": {
        "en": "Reverse charge (AE) needs both VAT identifiers: add the {party}'s VAT identifier.",
        "fr": "L'autoliquidation (AE) exige les deux numéros de TVA : ajoutez celui de {party_fr}.",
    },
    "BR-K-02": {
        "en": "An intra-community supply (K) needs both VAT identifiers: add the {party}'s VAT identifier.",
        "fr": "Une livraison intracommunautaire (K) exige les deux numéros de TVA : ajoutez celui de {party_fr}.",
    },
    "BR-S-05": {
        "en": "Standard-rated lines need a VAT rate above zero.",
        "fr": "Les lignes au taux normal doivent avoir un taux de TVA supérieur à zéro.",
    },
    "BR-X-05": {
        "en": "Category {category} lines carry a VAT rate of 0.",
        "fr": "Les lignes de catégorie {category} ont un taux de TVA de 0.",
    },
    "BR-S-06": {
        "en": "A standard-rated allowance or charge needs a VAT rate above zero.",
        "fr": "Une remise ou des frais au taux normal doivent avoir un taux de TVA supérieur à zéro.",
    },
    "BR-O-11": {
        "en": "An invoice 'not subject to VAT' (O) cannot mix in other VAT categories: split it in two invoices.",
        "fr": "Une facture « non soumise à la TVA » (O) ne peut pas mêler d'autres catégories : faites deux factures.",
    },
    "FX-DUE-1": {
        "en": "The due date is before the issue date: correct one of the two dates.",
        "fr": "La date d'échéance précède la date d'émission : corrigez l'une des deux dates.",
    },
    "FX-PARTY-1": {
        "en": "Seller and buyer are the same company: choose the buyer.",
        "fr": "Le vendeur et l'acheteur sont la même société : choisissez l'acheteur.",
    },
    "FX-LINE-1": {
        "en": "A line quantity cannot be zero: remove the line or fix it.",
        "fr": "La quantité d'une ligne ne peut pas être nulle : supprimez la ligne ou corrigez-la.",
    },
    "FX-TOTAL-1": {
        "en": "The amount due is negative: an invoice cannot pay the buyer back, issue a credit note instead.",
        "fr": "Le montant dû est négatif : une facture ne rembourse pas l'acheteur, émettez plutôt un avoir.",
    },
    "FX-CN-1": {
        "en": "A credit note must name the invoice it corrects.",
        "fr": "Un avoir doit indiquer la facture qu'il corrige.",
    },
    "FX-STAX-1": {
        "en": "Sales-tax lines are for sellers in {countries} only; elsewhere VAT is stated on the lines.",
        "fr": "Les lignes de taxe de vente sont réservées aux vendeurs de {countries} ; ailleurs, la TVA figure sur les lignes.",  # noqa: E501
    },
    "FX-STAX-2": {
        "en": "Give where the sales tax is due (for example US-CA) and an amount of zero or more.",
        "fr": "Indiquez où la taxe de vente est due (par exemple US-CA) et un montant positif ou nul.",
    },
    "FX-STAX-3": {
        "en": "This sales tax is {found}, but {rate} % of {base} is {expected}: check the amount.",
        "fr": "Cette taxe de vente vaut {found}, mais {rate} % de {base} font {expected} : vérifiez le montant.",
    },
    "FX-PARTY-2": {
        "en": "The seller {company_id} is not a member company known to Factora: register it in identity first.",
        "fr": "Le vendeur {company_id} n'est pas une société membre connue de Factora : inscrivez-la d'abord.",
    },
    "FX-PARTY-3": {
        "en": "The buyer {company_id} is not a member company: invite your customer to join Factora and connect.",
        "fr": "L'acheteur {company_id} n'est pas une société membre : invitez votre client à rejoindre Factora.",
    },
    "FX-REL-1": {
        "en": "You are not connected with this buyer: send a connection request, or enter the buyer's invitation "
        "code, before invoicing it.",
        "fr": "Vous n'êtes pas en relation avec cet acheteur : envoyez une demande de mise en relation, ou saisissez "
        "son code d'invitation, avant de le facturer.",
    },
    "FX-CN-2": {
        "en": "Invoice {number} is not an issued invoice of yours to this buyer: check the number of the invoice "
        "the credit note corrects.",
        "fr": "La facture {number} n'est pas une de vos factures émises pour cet acheteur : vérifiez le numéro de "
        "la facture corrigée.",
    },
    "FX-CN-3": {
        "en": "The credit note is for {requested}, but only {remaining} of the invoice is left to credit.",
        "fr": "L'avoir est de {requested}, mais il ne reste que {remaining} à créditer sur la facture.",
    },
    "FX-CREDIT-1": {
        "en": "The company has no transaction credits left: nothing was issued. Buy credits on the Billing page.",
        "fr": "La société n'a plus de transactions : rien n'a été émis. Achetez des transactions (menu Facturation).",
    },
    "CTRY-UNKNOWN": {
        "en": "Factora has no tax rules for {country} yet: only the EN 16931 rules were checked.",
        "fr": "Factora n'a pas encore de règles fiscales pour {country} : seules les règles EN 16931 ont été "
        "vérifiées.",
    },
    "CTRY-RATE": {
        "en": "{rate} % is not a {tax_name} rate of {country_name} on {day}: use one of {allowed}.",
        "fr": "{rate} % n'est pas un taux de {tax_name} de {country_name} au {day} : utilisez l'un de {allowed}.",
    },
    "CTRY-RATE-REGION": {
        "en": "In {region} ({country_name}) the {tax_name} rate on {day} is {allowed} %, not {rate} %.",
        "fr": "En {region} ({country_name}), le taux de {tax_name} au {day} est de {allowed} %, et non {rate} %.",
    },
    "CTRY-VATID": {
        "en": "'{vat_id}' is not a valid {country_name} tax identifier: check it against the registration.",
        "fr": "« {vat_id} » n'est pas un numéro fiscal valide pour {country_name} : vérifiez-le.",
    },
    "CTRY-NOVAT": {
        "en": "{country_name} has no VAT: state lines as not subject to VAT (O) and add sales taxes as supplied.",
        "fr": "{country_name} n'a pas de TVA : déclarez les lignes non soumises (O) et ajoutez les taxes de vente.",
    },
    "EU-RC-01": {
        "en": "Seller and buyer are VAT-registered in two EU countries: reverse charge (AE) or an intra-community "
        "supply (K) usually applies instead of the seller's VAT. Keep it only if the supply is taxed where "
        "the seller is.",
        "fr": "Vendeur et acheteur sont assujettis dans deux pays de l'UE : l'autoliquidation (AE) ou la livraison "
        "intracommunautaire (K) s'applique en général à la place de la TVA du vendeur. Ne la gardez que si "
        "l'opération est taxable dans le pays du vendeur.",
    },
    "EU-IC-01": {
        "en": "An intra-community supply (K) needs a seller and a buyer in two different EU countries.",
        "fr": "Une livraison intracommunautaire (K) exige un vendeur et un acheteur dans deux pays différents de l'UE.",
    },
    "EU-EXP-01": {
        "en": "Export (G) is for buyers outside the {area}: for this buyer use S, AE or K.",
        "fr": "L'exportation (G) concerne les acheteurs hors {area} : pour cet acheteur utilisez S, AE ou K.",
    },
    "EU-EXP-02": {
        "en": "The buyer is outside the seller's VAT area: exports of goods are usually zero-rated (G) and services "
        "outside the scope of VAT (O). Keep the VAT only if the supply is taxed where the seller is.",
        "fr": "L'acheteur est hors de la zone de TVA du vendeur : les exportations de biens sont en général "
        "exonérées (G) et les services hors champ (O). Ne gardez la TVA que si l'opération est taxable "
        "dans le pays du vendeur.",
    },
}

CATEGORY_NAMES = {
    "S": "standard rate",
    "Z": "zero rated",
    "E": "exempt",
    "AE": "reverse charge",
    "K": "intra-community supply",
    "G": "export outside the EU",
    "O": "not subject to VAT",
}


class _Defaulting(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(key: str, locale: str, params: dict[str, Any]) -> str:
    """The text of `key` in `locale` (English when the locale is not one we write in)."""
    texts = TEXTS.get(key)
    if texts is None:
        return key
    text = texts.get(locale) or texts["en"]
    return text.format_map(_Defaulting({k: str(v) for k, v in params.items()}))
