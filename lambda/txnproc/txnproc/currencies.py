"""Active ISO 4217 currency codes (the list in force in 2025; funds codes, precious metals,
test and "no currency" codes such as XXX are left out on purpose: nobody pays in them).

Kept in the package rather than looked up: the processor must not depend on a network call,
and the list changes about once a year (update it with the ISO 4217 amendment notices).
"""

from __future__ import annotations

_ACTIVE = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER
    ZAR ZMW ZWG
"""
CURRENCIES = frozenset(_ACTIVE.split())

# Currencies without a minor unit (ISO 4217 exponent 0): "100.50 JPY" is not an amount.
# Exponent-3 currencies (BHD, IQD, JOD, KWD, LYD, OMR, TND) are capped at 2 places like the
# rest, because the transactions table stores numeric(20,2).
_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF"
ZERO_DECIMAL = frozenset(_ZERO.split())
