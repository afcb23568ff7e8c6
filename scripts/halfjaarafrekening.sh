#!/bin/sh
# Half-year settlement for Inkoopkracht ZHW (Linux and macOS).
#
#   sh halfjaarafrekening.sh [MAP] [PERIODE]
#
# MAP is the drop folder with the calendar and budget workbooks (default: the folder that holds
# this script); PERIODE is 2024-H1, 2024-H2 or 2024 (asked for when missing). The script checks the
# inputs with "controleer", runs "afrekening" for the period, prints where the output is and opens
# that folder when a desktop is available. Exit codes follow the program: 0 done, 1 refused because
# of inputs or state, 2 wrong usage. Code comments are English; everything the user reads is Dutch.
set -u
unset CDPATH

PROMPT='Welke periode wilt u afrekenen (bijvoorbeeld 2024-H1, 2024-H2 of 2024)? '

if [ "$#" -gt 2 ]; then
    echo "Gebruik: sh halfjaarafrekening.sh [MAP] [PERIODE]" >&2
    echo "MAP is de map met de kalender en de begroting (standaard de map van dit script)," >&2
    echo "PERIODE is bijvoorbeeld 2024-H1, 2024-H2 of 2024." >&2
    exit 2
fi

# The drop folder: the first argument, else the folder beside this script.
if [ "$#" -ge 1 ] && [ -n "$1" ]; then
    MAP=$1
else
    case $0 in
        */*) MAP=${0%/*} ;;
        *) MAP=. ;;
    esac
fi
# A name starting with "-" would be read as an option.
case $MAP in
    -*) MAP=./$MAP ;;
esac
# Make it absolute so every message names the folder unambiguously. A folder that does not exist
# is left as it is: "controleer" reports it in Dutch.
if [ -d "$MAP" ]; then
    MAP=$(cd "$MAP" && pwd) || exit 1
fi

# The program: inkoopkracht-xl on PATH, else the module in python3 or python.
if command -v inkoopkracht-xl >/dev/null 2>&1; then
    PROGRAM=inkoopkracht-xl
elif command -v python3 >/dev/null 2>&1 && python3 -c 'import inkoopkracht_xl' >/dev/null 2>&1; then
    PROGRAM=python3
elif command -v python >/dev/null 2>&1 && python -c 'import inkoopkracht_xl' >/dev/null 2>&1; then
    PROGRAM=python
else
    echo "FOUT  Het programma inkoopkracht-xl is niet gevonden." >&2
    echo "Installeer het eenmalig (zie README.md, 'Aan de slag'), in de map van het programma:" >&2
    echo "    python3 -m venv .venv && .venv/bin/pip install -e ." >&2
    echo "en maak het vindbaar, bijvoorbeeld met: export PATH=\"\$PWD/.venv/bin:\$PATH\"" >&2
    echo "Start daarna dit script opnieuw." >&2
    exit 1
fi

ikxl() {
    if [ "$PROGRAM" = inkoopkracht-xl ]; then
        inkoopkracht-xl "$@"
    else
        "$PROGRAM" -m inkoopkracht_xl "$@"
    fi
}

# Periods never hold spaces; "2024-h1" means 2024-H1 (the program accepts both, and the output
# folder is named in upper case).
normalise() {
    printf '%s' "$1" | tr -d '[:space:]' | tr '[:lower:]' '[:upper:]'
}

# The period: the second argument, else asked (three tries; end of input stops at once).
if [ "$#" -ge 2 ]; then
    PERIODE=$(normalise "$2")
    if [ -z "$PERIODE" ]; then
        echo "FOUT  Geen periode opgegeven. Gebruik bijvoorbeeld 2024-H1, 2024-H2 of 2024." >&2
        exit 2
    fi
else
    PERIODE=
    tries=0
    while [ -z "$PERIODE" ]; do
        if [ "$tries" -ge 3 ]; then
            echo "FOUT  Geen periode ingevuld; er is niets gemaakt. Start het script opnieuw." >&2
            exit 2
        fi
        tries=$((tries + 1))
        printf '%s' "$PROMPT"
        answer=
        if ! IFS= read -r answer && [ -z "$answer" ]; then
            echo
            echo "FOUT  Geen periode ingevuld; er is niets gemaakt. Start het script opnieuw." >&2
            exit 2
        fi
        # Typed input ends with Enter; redirected input does not, so finish the prompt line.
        [ -t 0 ] || echo
        PERIODE=$(normalise "$answer")
        if [ -z "$PERIODE" ]; then
            echo "Vul een periode in, bijvoorbeeld 2024-H1." >&2
        fi
    done
fi

echo "Invoermap: $MAP"
echo
echo "Stap 1 van 2: de invoer controleren"
ikxl controleer "$MAP"
status=$?
if [ "$status" -ne 0 ]; then
    echo
    echo "De invoer bevat fouten; er is geen afrekening gemaakt." >&2
    echo "Herstel de fouten en start opnieuw." >&2
    exit "$status"
fi

echo
echo "Stap 2 van 2: de afrekening $PERIODE maken"
ikxl afrekening "$MAP" --periode "$PERIODE"
status=$?
if [ "$status" -ne 0 ]; then
    echo
    echo "De afrekening $PERIODE is niet gemaakt; zie de melding hierboven." >&2
    exit "$status"
fi

case $MAP in
    */) UIT=${MAP}uitvoer/$PERIODE ;;
    *) UIT=$MAP/uitvoer/$PERIODE ;;
esac
echo
echo "Klaar. De uitvoer staat in: $UIT"
echo "Bekijk het overzicht en de facturen voordat u ze verstuurt."

# Open the output folder when there is a desktop to show it on; never fail because of it.
case $(uname -s 2>/dev/null) in
    Darwin)
        if command -v open >/dev/null 2>&1; then
            open "$UIT" >/dev/null 2>&1 || true
        fi
        ;;
    *)
        if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && command -v xdg-open >/dev/null 2>&1; then
            xdg-open "$UIT" >/dev/null 2>&1 </dev/null || true
        fi
        ;;
esac
exit 0
