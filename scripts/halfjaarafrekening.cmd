@echo off
rem Half-year settlement for Inkoopkracht ZHW (Windows).
rem
rem Copy this file into the folder that holds the calendar and budget workbooks (the drop
rem folder) and double-click it. It checks the inputs with "controleer", asks for the period,
rem runs "afrekening" and opens the output folder in Explorer. Every path ends in a single
rem "pause" so the window stays open until the user has read it.
rem
rem Notes for maintainers:
rem - Code comments are English; everything the user reads is Dutch.
rem - This file is plain ASCII with CRLF line endings on purpose: cmd reads a batch file in the
rem   console code page, line by line, so accented letters or a UTF-8 BOM would break it.
rem - No parenthesised blocks around user text or paths: a ")" in a folder name would end them.
rem   Paths and the period are always used inside double quotes, so an ampersand is safe too.
setlocal EnableExtensions DisableDelayedExpansion

rem Remember the console code page and switch to UTF-8 so Dutch text and the euro sign show.
set "OUDECP="
for /f "tokens=2 delims=:." %%c in ('chcp') do set "OUDECP=%%c"
chcp 65001 >nul
set "RC=1"
set "GEKOPPELD="

rem Work in the folder beside this script. cmd cannot use a network path (\\server\share) as
rem its current folder; pushd then maps a temporary drive letter (released at the end).
cd /d "%~dp0" 2>nul || goto koppel
goto mapgevonden
:koppel
pushd "%~dp0" 2>nul || goto geenmap
set "GEKOPPELD=1"
:mapgevonden

rem The folder as an argument. At a drive root %CD% ends in a backslash, and "E:\" would reach
rem the program as E: followed by a quote, so use "E:\." there.
set "MAP=%CD%"
if "%CD:~-1%"=="\" set "MAP=%CD%."

echo Halfjaarafrekening Inkoopkracht ZHW
echo Invoermap: "%CD%"
echo(

rem The program: inkoopkracht-xl on PATH, else the module in the py launcher or python.
set "IKXL="
where inkoopkracht-xl >nul 2>nul && set "IKXL=inkoopkracht-xl"
if not defined IKXL (py -c "import inkoopkracht_xl" >nul 2>nul && set "IKXL=py -m inkoopkracht_xl")
if not defined IKXL (python -c "import inkoopkracht_xl" >nul 2>nul && set "IKXL=python -m inkoopkracht_xl")
if not defined IKXL goto geenprogramma

rem The period, asked at most three times; quotes and spaces are removed.
set "POGING=0"
:vraag
set "PERIODE="
set /p "PERIODE=Welke periode wilt u afrekenen (bijvoorbeeld 2024-H1, 2024-H2 of 2024)? "
if not defined PERIODE goto leeg
set "PERIODE=%PERIODE:"=%"
if not defined PERIODE goto leeg
set "PERIODE=%PERIODE: =%"
if not defined PERIODE goto leeg
goto periodegevonden
:leeg
set /a POGING+=1
if %POGING% geq 3 goto geenperiode
echo Vul een periode in, bijvoorbeeld 2024-H1.
goto vraag
:periodegevonden
set "UIT=%CD%\uitvoer\%PERIODE%"
if "%CD:~-1%"=="\" set "UIT=%CD%uitvoer\%PERIODE%"

rem Step 1: check the inputs; errors stop here.
echo(
echo Stap 1 van 2: de invoer controleren
%IKXL% controleer "%MAP%"
if errorlevel 1 goto invoerfout

rem Step 2: the settlement of the period.
echo(
echo Stap 2 van 2: de afrekening "%PERIODE%" maken
%IKXL% afrekening "%MAP%" --periode "%PERIODE%"
if errorlevel 1 goto afrekenfout

echo(
echo Klaar. De uitvoer staat in "%UIT%"
echo Bekijk het overzicht en de facturen voordat u ze verstuurt.
start "" explorer "%UIT%"
set "RC=0"
goto einde

:invoerfout
set "RC=%ERRORLEVEL%"
echo(
echo De invoer bevat fouten; er is geen afrekening gemaakt.
echo Herstel de fouten en start opnieuw.
goto einde

:afrekenfout
set "RC=%ERRORLEVEL%"
echo(
echo De afrekening "%PERIODE%" is niet gemaakt; zie de melding hierboven.
echo Herstel wat er staat en start opnieuw.
goto einde

:geenperiode
echo(
echo FOUT  Er is geen periode ingevuld; er is niets gemaakt. Start het script opnieuw.
set "RC=1"
goto einde

:geenprogramma
echo FOUT  Het programma inkoopkracht-xl is niet gevonden op deze computer.
echo Installeer het eenmalig, zie README.md onder "Aan de slag". Open een opdrachtprompt
echo in de map van het programma en typ:
echo     py -m pip install .
echo Dan vindt dit script het programma via "py -m inkoopkracht_xl". Staat het al in een
echo eigen omgeving, zet dan de map .venv\Scripts daarvan in PATH.
echo Start daarna dit script opnieuw.
set "RC=1"
goto einde

:geenmap
echo FOUT  De map van dit script is niet te openen: "%~dp0"
echo Kopieer het script naar de map met de kalender en de begroting en start het daar.
set "RC=1"
goto einde

:einde
echo(
pause
if defined GEKOPPELD popd
if defined OUDECP chcp %OUDECP% >nul 2>nul
endlocal & exit /b %RC%
