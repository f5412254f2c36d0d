// Single sign-on against real service providers, never our own fakes.
//
// SAML with pysaml2's service provider (peers/saml-sp.py), which trusts only the metadata it
// downloads from the console and checks every response with xmlsec1. An administrator sets the
// application up from the provider's metadata file; people with a password and no console role
// sign in SP-initiated (from the application) and IdP-initiated (from My Apps); the unassigned,
// the disabled and a tampered response are refused; a new certificate keeps sign-ins working once
// the provider reloads the metadata; the Sign-in logs show every attempt.
//
// OpenID Connect with openid-client's relying party (peers/oidc-rp.mjs), which discovers the
// issuer and checks every ID token's signature against its JWKS: sign-in, a tampered ID token
// refused, refresh, key rotation, the unassigned refused (at sign-in and at refresh), logout.
import { readFileSync, writeFileSync } from 'node:fs';
import { type Browser, type Page, expect } from '@playwright/test';
import { PASSWORD, SignInPage, hydrated, test } from './console';
import * as peers from './peers';

const APP = 'Contoso Expenses';
const PEOPLE = [
  { upn: 'adele.vance@contoso.com', given: 'Adele', surname: 'Vance', assigned: true },
  { upn: 'alex.wilber@contoso.com', given: 'Alex', surname: 'Wilber', assigned: false },
  { upn: 'megan.bowen@contoso.com', given: 'Megan', surname: 'Bowen', assigned: true },
];

test.describe.configure({ mode: 'serial' });
test.afterAll(() => peers.stop());

/** A fresh browser (no session) that only talks to loopback. */
async function person(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ baseURL: process.env.SCIMITAR_URL });
  await context.route(
    (url) => !['127.0.0.1', 'localhost'].includes(url.hostname),
    (route) => route.abort(),
  );
  return context.newPage();
}

/** Sign-in at the console's page, wherever a sign-on sent the browser. */
async function signInThere(page: Page, upn: string) {
  await expect(page).toHaveURL(/\/signin\?next=/);
  await new SignInPage(page).signIn(upn);
}

test('SAML single sign-on to an assigned application, from the application and from My Apps', async ({ page, browser }, testInfo) => {
  await page.goto('/signin');
  await new SignInPage(page).signIn('admin@contoso.com');
  await expect(page.getByRole('navigation', { name: 'Portal' })).toBeVisible();

  // Three people with a password and no console role ("None (My Apps only)").
  for (const p of PEOPLE) {
    await page.goto('/users/new');
    await hydrated(page);
    await page.getByLabel('User principal name').fill(p.upn);
    await page.getByLabel('Display name').fill(`${p.given} ${p.surname}`);
    await page.getByLabel('First name').fill(p.given);
    await page.getByLabel('Last name').fill(p.surname);
    await page.getByLabel('Email').fill(p.upn);
    await page.getByRole('button', { name: 'Create' }).click();
    await expect(page.getByRole('heading', { name: `${p.given} ${p.surname}`, level: 1 })).toBeVisible();
    await hydrated(page);
    await page.getByLabel('Directory role').selectOption({ label: 'None (My Apps only)' });
    await page.getByLabel('New password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Save console access' }).click();
    await expect(page.getByRole('status')).toHaveText('Console access has been saved.');
  }

  // The application, with Adele and Megan assigned.
  await page.goto('/applications/new');
  await hydrated(page);
  await page.getByLabel('Name of the new Create your own application application').fill(APP);
  await page.getByRole('button', { name: 'Create Create your own application' }).click();
  await expect(page.getByRole('heading', { name: APP, level: 1 })).toBeVisible();
  const application = page.url().replace(/\/$/, '');
  const id = application.split('/').pop()!;
  await page.goto(`${application}/users`);
  await hydrated(page);
  for (const [index, p] of PEOPLE.filter((p) => p.assigned).entries()) {
    await page.getByLabel('User or group').fill(p.upn);
    await page.getByRole('button', { name: 'Assign' }).click();
    await expect(page.getByRole('heading', { name: `Assigned (${index + 1})` })).toBeVisible();
  }

  // The service provider, told where the console's metadata is; its own metadata fills the
  // Basic SAML Configuration.
  const sp = await peers.samlServiceProvider(`${process.env.SCIMITAR_URL}/saml/${id}/metadata`);
  const spMetadata = testInfo.outputPath('sp-metadata.xml');
  writeFileSync(spMetadata, await sp.metadata());
  await page.getByRole('navigation', { name: 'Application' }).getByRole('link', { name: 'Single sign-on' }).click();
  await expect(page).toHaveURL(/\/single-sign-on$/);
  await hydrated(page);
  await page.getByRole('radio', { name: /^SAML:/ }).check();
  await page.locator('#sso-metadata-file').setInputFiles(spMetadata);
  await expect(page.getByLabel('Identifier (Entity ID)')).toHaveValue(sp.entity_id);
  await expect(page.getByLabel('Reply URL (Assertion Consumer Service URL)')).toHaveValue(sp.acs);
  // A reply URL that is not https is named beside its field.
  await page.getByLabel('Reply URL (Assertion Consumer Service URL)').fill(`${sp.acs}\nhttp://apps.contoso.com/acs`);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.locator('#sso-saml-replyUrls-error')).toContainText('https://');
  await page.getByLabel('Reply URL (Assertion Consumer Service URL)').fill(sp.acs);
  await page.getByLabel('Relay State').fill('/expenses');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Single sign-on has been saved.');
  // Saving SAML made the first certificate.
  await expect(page.locator('.certificates tbody tr')).toHaveCount(1);
  await expect(page.locator('.certificates tbody tr')).toContainText('Active');
  await sp.reload();

  // Adele starts at the application (SP-initiated), signs in at the console, and arrives
  // signed in, with the claims.
  const adele = await person(browser);
  await adele.goto(`${sp.url}/login`);
  await signInThere(adele, 'adele.vance@contoso.com');
  await expect(adele.getByRole('heading', { level: 1 })).toHaveText('Signed in as adele.vance@contoso.com');
  await expect(adele.locator('body')).toContainText('SP-initiated; relay state: sp-initiated');
  await expect(adele.locator('dl')).toContainText('Vance');

  // From My Apps (IdP-initiated), with the Relay State.
  await adele.goto('/myapps');
  await hydrated(adele);
  await expect(adele.getByRole('heading', { name: 'My Apps' })).toBeVisible();
  await adele.getByRole('link', { name: APP }).click();
  await expect(adele.getByRole('heading', { level: 1 })).toHaveText('Signed in as adele.vance@contoso.com');
  await expect(adele.locator('body')).toContainText('IdP-initiated; relay state: /expenses');
  // The console itself is not hers.
  await adele.goto('/users');
  await expect(adele).toHaveURL(/\/myapps$/);

  // A response changed on its way (the NameID swapped) is refused by the service provider.
  await adele.route(sp.acs, async (route) => {
    const form = new URLSearchParams(route.request().postData() ?? '');
    const xml = Buffer.from(form.get('SAMLResponse')!, 'base64').toString();
    form.set('SAMLResponse', Buffer.from(xml.replace('adele.vance@contoso.com</saml:NameID>', 'admin@contoso.com</saml:NameID>')).toString('base64'));
    await route.continue({ postData: form.toString() });
  });
  await adele.goto('/myapps');
  await adele.getByRole('link', { name: APP }).click();
  await expect(adele.getByRole('heading', { level: 1 })).toHaveText('Refused');
  await adele.unroute(sp.acs);

  // Alex is not assigned: the console says so, and the application never hears of him.
  const alex = await person(browser);
  await alex.goto(`${sp.url}/login`);
  await signInThere(alex, 'alex.wilber@contoso.com');
  await expect(alex.getByRole('heading', { level: 1 })).toHaveText('You are not assigned to this application');
  await expect(alex.getByRole('alert')).toHaveText(`You are not assigned to this application. Ask your administrator to assign you to ${APP}.`);
  await alex.goto('/myapps');
  await expect(alex.getByText('No applications yet')).toBeVisible();

  // Megan signs in, then her account is disabled: her session ends and she cannot sign in.
  const megan = await person(browser);
  await megan.goto(`${sp.url}/login`);
  await signInThere(megan, 'megan.bowen@contoso.com');
  await expect(megan.getByRole('heading', { level: 1 })).toHaveText('Signed in as megan.bowen@contoso.com');
  await page.goto('/users?q=megan');
  await page.getByRole('link', { name: 'Megan Bowen' }).click();
  await hydrated(page);
  await page.getByLabel('Account enabled').uncheck();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Your changes have been saved.');
  await megan.goto(`${sp.url}/login`);
  await signInThere(megan, 'megan.bowen@contoso.com');
  await expect(megan.getByText('The user name or password is incorrect.')).toBeVisible();

  // Certificate rotation: a new certificate is published first; once the service provider has
  // reloaded the metadata, making it active keeps sign-ins working.
  await page.goto(`${application}/single-sign-on`);
  await hydrated(page);
  await page.getByRole('button', { name: 'New certificate' }).click();
  await expect(page.locator('.certificates tbody tr')).toHaveCount(2);
  await sp.reload();
  await page.getByRole('button', { name: 'Make certificate active' }).click();
  await expect(page.locator('.certificates tbody tr').first()).toContainText('Active');
  await expect(page.locator('.certificates tbody tr').nth(1)).toContainText('Inactive');
  await adele.goto('/myapps');
  await adele.getByRole('link', { name: APP }).click();
  await expect(adele.getByRole('heading', { level: 1 })).toHaveText('Signed in as adele.vance@contoso.com');
  // A certificate made active before the provider reloads is not trusted: the provider checks
  // every signature against the metadata it has.
  await page.getByRole('button', { name: 'Delete' }).click();
  await expect(page.locator('.certificates tbody tr')).toHaveCount(1);
  await page.getByRole('button', { name: 'New certificate' }).click();
  await expect(page.locator('.certificates tbody tr')).toHaveCount(2);
  await page.getByRole('button', { name: 'Make certificate active' }).click();
  await expect(page.locator('.certificates tbody tr').nth(1)).toContainText('Inactive');
  await adele.goto('/myapps');
  await adele.getByRole('link', { name: APP }).click();
  await expect(adele.getByRole('heading', { level: 1 })).toHaveText('Refused');
  await sp.reload();
  await adele.goto('/myapps');
  await adele.getByRole('link', { name: APP }).click();
  await expect(adele.getByRole('heading', { level: 1 })).toHaveText('Signed in as adele.vance@contoso.com');

  // The Sign-in logs: every attempt, filterable, and downloadable as the filters show it.
  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Sign-in logs' }).click();
  await expect(page).toHaveURL(/\/sign-in-logs$/);
  await hydrated(page);
  const rows = page.locator('.sign-ins tbody tr');
  await expect(rows.filter({ hasText: 'alex.wilber@contoso.com' }).filter({ hasText: 'SAML' })).toContainText(
    'You are not assigned to this application.',
  );
  await expect(rows.filter({ hasText: 'adele.vance@contoso.com' }).first()).toContainText('Success');
  // Megan's refused password sign-in says why, for the administrator's eyes only.
  await expect(rows.filter({ hasText: 'megan.bowen@contoso.com' }).filter({ hasText: 'Failure' })).toContainText('The account is disabled');
  await page.getByLabel('Result').selectOption('Failure');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/result=Failure/);
  await expect(rows.filter({ hasText: 'Success' })).toHaveCount(0);
  await expect(rows.filter({ hasText: 'alex.wilber@contoso.com' })).toHaveCount(1);
  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Download CSV' }).click();
  const csv = testInfo.outputPath('sign-in-logs.csv');
  await (await download).saveAs(csv);
  const text = readFileSync(csv, 'utf8');
  expect(text.split('\n')[0]).toBe('Date (UTC),User,Application,Protocol,Result,Reason,Client address,Correlation ID');
  expect(text).toContain('alex.wilber@contoso.com');
  expect(text).not.toContain(',Success,');
});

test('OpenID Connect single sign-on with openid-client: sign-in, refresh, rotation, unassignment and logout', async ({ page, browser }) => {
  const TRAVEL = 'Contoso Travel';
  await page.goto('/signin');
  await new SignInPage(page).signIn('admin@contoso.com');
  await expect(page.getByRole('navigation', { name: 'Portal' })).toBeVisible();

  // The application, with Adele assigned (Adele and Alex have passwords from the SAML journey).
  await page.goto('/applications/new');
  await hydrated(page);
  await page.getByLabel('Name of the new Create your own application application').fill(TRAVEL);
  await page.getByRole('button', { name: 'Create Create your own application' }).click();
  await expect(page.getByRole('heading', { name: TRAVEL, level: 1 })).toBeVisible();
  const application = page.url().replace(/\/$/, '');
  const id = application.split('/').pop()!;
  await page.goto(`${application}/users`);
  await hydrated(page);
  await page.getByLabel('User or group').fill('adele.vance@contoso.com');
  await page.getByRole('button', { name: 'Assign' }).click();
  await expect(page.getByRole('heading', { name: 'Assigned (1)' })).toBeVisible();

  // OpenID Connect, a confidential client. A redirect URI that is not https is named beside
  // its field; the first save makes the signing key.
  await page.goto(`${application}/single-sign-on`);
  await hydrated(page);
  await page.getByRole('radio', { name: /^OpenID Connect:/ }).check();
  await expect(page.locator('#sso-client-id')).toHaveText(id);
  await page.getByLabel('Redirect URIs', { exact: true }).fill('http://travel.contoso.com/signin-oidc');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.locator('#sso-oidc-redirectUris-error')).toContainText('https://');
  await page.getByLabel('Redirect URIs', { exact: true }).fill('https://travel.contoso.com/signin-oidc');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Single sign-on has been saved.');
  await expect(page.locator('.certificates tbody tr')).toHaveCount(1);

  // A client secret, shown once; the relying party gets it with the issuer and the client ID,
  // and its own addresses are registered.
  await page.getByLabel('Description').fill('openid-client');
  await page.getByRole('button', { name: 'New client secret' }).click();
  const secret = (await page.locator('#sso-new-client-secret').textContent())!;
  await expect(page.locator('.client-secrets tbody tr')).toHaveCount(1);
  await expect(page.locator('.client-secrets tbody tr')).not.toContainText(secret);
  const issuer = (await page.locator('#sso-issuer').textContent())!;
  const rp = await peers.oidcRelyingParty(issuer, id, secret);
  await page.getByLabel('Redirect URIs', { exact: true }).fill(rp.redirect_uri);
  await page.getByLabel('Post-logout redirect URIs').fill(rp.post_logout_redirect_uri);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status').first()).toHaveText('Single sign-on has been saved.');

  // Adele starts at the application, signs in at the console, and arrives signed in: the ID
  // token verified by openid-client, with the claims.
  const adele = await person(browser);
  await adele.goto(`${rp.url}/login`);
  await signInThere(adele, 'adele.vance@contoso.com');
  await expect(adele.getByRole('heading', { level: 1 })).toHaveText(/^Signed in as [0-9a-f-]{36}$/);
  await expect(adele.locator('dl')).toContainText('adele.vance@contoso.com');
  await expect(adele.locator('dl')).toContainText('Adele Vance');

  // An ID token changed on its way is refused by the relying party.
  await adele.goto(`${rp.url}/login?tamper=1`);
  await expect(adele.getByRole('heading', { level: 1 })).toHaveText('Refused');
  await expect(adele.getByRole('alert')).toContainText('signature');

  // The refresh token gives a new ID token.
  await adele.goto(`${rp.url}/refresh`);
  await expect(adele.getByRole('heading', { level: 1 })).toHaveText(/^Refreshed for /);

  // My Apps opens the application's site, which starts the sign-in.
  await adele.goto('/myapps');
  await hydrated(adele);
  await expect(adele.getByRole('link', { name: TRAVEL })).toHaveAttribute('href', `${rp.url}/`);

  // Alex is not assigned: the console says so, and the application gets no code.
  const alex = await person(browser);
  await alex.goto(`${rp.url}/login`);
  await signInThere(alex, 'alex.wilber@contoso.com');
  await expect(alex.getByRole('heading', { level: 1 })).toHaveText('You are not assigned to this application');

  // Key rotation: the new key is in the JWKS before it signs; once the relying party has
  // fetched it again, ID tokens signed with it verify.
  await page.getByRole('button', { name: 'New certificate' }).click();
  await expect(page.locator('.certificates tbody tr')).toHaveCount(2);
  await rp.reload();
  await page.getByRole('button', { name: 'Make certificate active' }).click();
  await expect(page.locator('.certificates tbody tr').first()).toContainText('Active');
  await adele.goto(`${rp.url}/login`);
  await expect(adele.getByRole('heading', { level: 1 })).toHaveText(/^Signed in as /);

  // Unassigned, Adele's refresh token stops working.
  await page.goto(`${application}/users`);
  await hydrated(page);
  await page.getByRole('button', { name: /^Remove Adele Vance/ }).click();
  await expect(page.getByRole('heading', { name: 'Assigned (0)' })).toBeVisible();
  await adele.goto(`${rp.url}/refresh`);
  await expect(adele.getByRole('heading', { level: 1 })).toHaveText('Refused');
  await expect(adele.getByRole('alert')).toContainText('You are not assigned to this application');

  // Signing out at the application ends the console session and comes back with the state.
  await adele.goto(`${rp.url}/logout`);
  await expect(adele.getByRole('heading', { level: 1 })).toHaveText('Signed out');
  await expect(adele.locator('body')).toContainText('state ok');
  await adele.goto('/myapps');
  await expect(adele).toHaveURL(/\/signin/);

  // The Sign-in logs have both, protocol OpenID Connect.
  await page.goto('/sign-in-logs');
  await hydrated(page);
  const rows = page.locator('.sign-ins tbody tr').filter({ hasText: 'OpenID Connect' });
  await expect(rows.filter({ hasText: 'alex.wilber@contoso.com' })).toContainText('You are not assigned to this application.');
  await expect(rows.filter({ hasText: 'adele.vance@contoso.com' }).first()).toContainText('Success');
});

