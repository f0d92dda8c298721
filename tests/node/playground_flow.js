// Drives the Microsoft 365 Agents Playground's web UI (headless Chromium) through a policy question
// and a card button. Usage: node playground_flow.js PLAYGROUND_URL SCREENSHOT_DIR
const { chromium } = require('playwright-core');

const [url, shots] = process.argv.slice(2);

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  try {
    await page.goto(url, { waitUntil: 'networkidle' });
    // The install event brings the welcome card (policy 9.1: what the bot is, how to reach a person).
    await page.getByText('To reach a person:').first().waitFor({ timeout: 20000 });

    // Then the acknowledgement prompt (policy 17): confirm, and see it recorded.
    await page.getByText('Please confirm you have read the GenAI policy').first().waitFor({ timeout: 20000 });
    await page.getByRole('button', { name: 'I have read and understood the policy', exact: true }).first().click();
    await page.getByText(/Thank you\. Recorded: version/).first().waitFor({ timeout: 20000 });

    const box = page.locator('[data-lexical-editor="true"]');
    await box.click();
    await page.keyboard.type('Can I use ChatGPT to draft a press release?');
    await page.keyboard.press('Enter');
    await page.getByText('7.1 Permitted uses').first().waitFor({ timeout: 20000 });
    await page.getByText('ChatGPT', { exact: true }).first().waitFor({ timeout: 5000 });
    await page.screenshot({ path: `${shots}/answer.png` });

    // An Action.Execute button: the Playground sends an adaptiveCard/action invoke and shows our response card.
    await page.getByRole('button', { name: 'Helpful', exact: true }).last().click();
    await page.getByText('glad it helped').first().waitFor({ timeout: 20000 });
    await page.getByRole('button', { name: 'Read section 7.1', exact: true }).last().click();
    await page.getByText('brainstorm ideas, plan projects').first().waitFor({ timeout: 20000 });
    await page.screenshot({ path: `${shots}/after-buttons.png` });

    // Report an incident through the form card.
    await box.click();
    await page.keyboard.type('report incident');
    await page.keyboard.press('Enter');
    const form = page.locator('.ac-adaptiveCard', { hasText: 'Report an AI concern or incident' }).last();
    await form.waitFor({ timeout: 20000 });
    await form.locator('textarea').first().fill('Copilot put a resident\'s address into a summary sent to the whole team.');
    await form.getByPlaceholder('e.g. ChatGPT, Copilot, or unknown').fill('Copilot');
    await form.getByText('Not sure', { exact: true }).click();
    await form.getByRole('combobox').click();
    await page.getByRole('option', { name: 'Personal or confidential data exposed' }).click();
    await form.getByText('High', { exact: true }).click();
    await form.getByRole('button', { name: 'Send report', exact: true }).click();
    await page.getByText(/Report received: INC-\d{4}-\d{4}/).first().waitFor({ timeout: 20000 });
    await page.getByText('Possible personal data breach').first().waitFor({ timeout: 5000 });
    await page.screenshot({ path: `${shots}/incident-receipt.png` });

    // Triage: the cards for governance and security arrive; acknowledging one updates both in place
    // and tells the reporter.
    const triage = page.locator('.ac-adaptiveCard', { hasText: 'AI incident INC-' });
    await triage.first().waitFor({ timeout: 20000 });
    await triage.first().getByRole('button', { name: 'Acknowledge', exact: true }).click();
    await page.getByText(/has been acknowledged by the triage team/).first().waitFor({ timeout: 20000 });
    await page.waitForTimeout(1500);
    await page.screenshot({ path: `${shots}/incident-triaged.png` });
    console.log('playground flow ok');
  } catch (error) {
    await page.screenshot({ path: `${shots}/failure.png` }).catch(() => {});
    console.error(`playground flow FAILED: ${error.message}`);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
})();
